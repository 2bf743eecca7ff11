using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using EdgeAe.Data;
using EdgeAe.IO;
using EdgeAe.Training;
using Spectre.Console;
using Spectre.Console.Cli;

namespace EdgeAe.Cli.Commands;

internal sealed class TrainSettings : ModelDataSettings
{
    [CommandOption("--scale <N>")]
    [Description("Divide every value by N (default: bundled digits 16, IDX 255, CSV its largest absolute value when above 1).")]
    public string? Scale { get; set; }

    [CommandOption("--standardize")]
    [Description("Standardise each feature to mean 0, std 1 over the training data instead of scaling.")]
    public bool Standardize { get; set; }

    [CommandOption("--validation <FILE>")]
    [Description("A validation data file (same format options as --data).")]
    public string? Validation { get; set; }

    [CommandOption("--validation-split <FRACTION>")]
    [Description("Hold out this fraction of --data for validation, e.g. 0.1 (seeded).")]
    public string? ValidationSplit { get; set; }

    [CommandOption("--epochs <N>")]
    [Description("Passes over the training data.")]
    [DefaultValue(200)]
    public int Epochs { get; set; } = 200;

    [CommandOption("--batch-size <N>")]
    [Description("Samples per optimizer step.")]
    [DefaultValue(32)]
    public int BatchSize { get; set; } = 32;

    [CommandOption("--optimizer <NAME>")]
    [Description("adam | sgd | momentum | nesterov.")]
    [DefaultValue("adam")]
    public string Optimizer { get; set; } = "adam";

    [CommandOption("--lr <RATE>")]
    [Description("Learning rate.")]
    [DefaultValue("0.01")]
    public string LearningRate { get; set; } = "0.01";

    [CommandOption("--corruption <SPEC>")]
    [Description("Denoising: none | masking:P | gaussian:S | saltpepper:P.")]
    [DefaultValue("none")]
    public string Corruption { get; set; } = "none";

    [CommandOption("--seed <N>")]
    [Description("Seed of initialisation, shuffling, splitting and corruption.")]
    [DefaultValue(1)]
    public int Seed { get; set; } = 1;

    [CommandOption("--patience <N>")]
    [Description("Early stopping: stop after N epochs without improvement (of the validation loss when there is validation data).")]
    public int? Patience { get; set; }

    [CommandOption("--out <FILE>")]
    [Description("Weight file to write (default artifacts/digits.eaw for the built-in model, artifacts/<model>.eaw otherwise); .best.eaw and .last.eaw checkpoints, loss.png and reconstructions.png are written beside it.")]
    public string? Out { get; set; }

    [CommandOption("--code-bits <N>")]
    [Description("Also store the packet codec's code quantisation (8 or 16 bits per code value) in the weight file: a sigmoid or tanh code's known range, else each code value's min/max over the training data after training.")]
    public int? CodeBits { get; set; }

    [CommandOption("--qat")]
    [Description("Quantisation-aware training (docs/quantization.md): fake-quantised int8 weights and activations in the forward pass; also writes the int8 model beside --out (<name>.int8.eaw). Usually with --from and a lower --lr.")]
    public bool Qat { get; set; }

    [CommandOption("--from <FILE>")]
    [Description("Start from the parameters of this float32 weight file (fine-tuning) and keep its normalisation, instead of initialising from --seed.")]
    public string? From { get; set; }

    [CommandOption("--no-plots")]
    [Description("Do not write loss.png and reconstructions.png.")]
    public bool NoPlots { get; set; }

    public OptimizerKind OptimizerKind { get; private set; }

    public float ParsedLearningRate { get; private set; }

    public Corruption ParsedCorruption { get; private set; } = Training.Corruption.None;

    public float? ParsedScale { get; private set; }

    public double? ParsedValidationSplit { get; private set; }

    public override ValidationResult Validate()
    {
        if (CodeBits is not (null or 8 or 16))
        {
            return Invalid("--code-bits", CodeBits.Value.ToString(CultureInfo.InvariantCulture), "expected 8 or 16");
        }

        if (Epochs <= 0)
        {
            return Invalid("--epochs", Epochs.ToString(CultureInfo.InvariantCulture), "expected a positive integer");
        }

        if (BatchSize <= 0)
        {
            return Invalid("--batch-size", BatchSize.ToString(CultureInfo.InvariantCulture), "expected a positive integer");
        }

        if (Patience is <= 0)
        {
            return Invalid("--patience", Patience.Value.ToString(CultureInfo.InvariantCulture), "expected a positive integer");
        }

        try
        {
            OptimizerKind = OptimizerOptions.ParseKind(Optimizer);
        }
        catch (ArgumentException)
        {
            return Invalid("--optimizer", Optimizer, $"expected one of: {string.Join(", ", OptimizerOptions.KindNames)}");
        }

        if (!TryParseFloat(LearningRate, out float lr) || lr <= 0)
        {
            return Invalid("--lr", LearningRate, "expected a positive number");
        }

        ParsedLearningRate = lr;
        try
        {
            ParsedCorruption = Training.Corruption.Parse(Corruption);
        }
        catch (ArgumentException e)
        {
            string reason = e.ParamName is null ? e.Message : e.Message.Replace($" (Parameter '{e.ParamName}')", string.Empty, StringComparison.Ordinal);
            return ValidationResult.Error($"invalid value '{Corruption}' for --corruption: {reason}");
        }

        if (Scale is not null)
        {
            if (!TryParseFloat(Scale, out float scale) || scale <= 0)
            {
                return Invalid("--scale", Scale, "expected a positive number");
            }

            ParsedScale = scale;
        }

        if (Standardize && Scale is not null)
        {
            return ValidationResult.Error("--scale and --standardize exclude each other");
        }

        if (ValidationSplit is not null)
        {
            if (!double.TryParse(ValidationSplit, NumberStyles.Float, CultureInfo.InvariantCulture, out double split) || !(split > 0 && split < 1))
            {
                return Invalid("--validation-split", ValidationSplit, "expected a fraction between 0 and 1, exclusive");
            }

            ParsedValidationSplit = split;
        }

        if (Validation is not null && ValidationSplit is not null)
        {
            return ValidationResult.Error("--validation and --validation-split exclude each other");
        }

        return base.Validate();
    }
}

/// <summary>
/// <c>edgeae train</c>: trains the built-in model or a compiled declaration with live progress (or
/// one line per epoch when output is redirected), checkpoints, a summary table and two plots.
/// </summary>
internal sealed class TrainCommand(CliEnvironment environment) : Command<TrainSettings>
{
    public override int Execute(CommandContext context, TrainSettings settings, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        if (!settings.NoPlots)
        {
            Plots.EnsureFonts();
        }

        ModelHandle handle = ModelHandle.Resolve(settings.Model, environment);
        if (settings.Model is not null)
        {
            environment.Line($"model: {handle.Name} from {settings.Model} ({(handle.FromCache ? "cache hit" : "compiled and cached")}, {clock.Elapsed.TotalSeconds:F1} s)");
        }

        // Data: read, check widths, split, fit the normalisation on the training part only.
        RawData raw = DataLoader.Load(settings.Data, settings.DataOptions);
        DataLoader.CheckWidth(raw, handle);
        Dataset training = raw.Data;
        Dataset? validation = null;
        if (settings.Validation is not null)
        {
            RawData heldOut = DataLoader.Load(settings.Validation, settings.DataOptions);
            DataLoader.CheckWidth(heldOut, handle);
            validation = heldOut.Data;
        }
        else if (settings.ParsedValidationSplit is { } fraction)
        {
            if (training.Count < 2)
            {
                throw new CliException($"{raw.Name} has {training.Count} sample(s): too few to split off validation data");
            }

            (training, validation) = DatasetSplit.TrainValidation(training, fraction, settings.Seed);
        }

        var trainingRaw = raw with { Data = training };
        WeightFileInfo? from = settings.From is null ? null : StartingPoint(settings.From);
        Normalization normalization = from is not null ? from.Normalization
            : settings.Standardize ? Normalizer.FitStandardize(training)
            : settings.ParsedScale is { } scale ? Normalization.ScaleBy(scale, training.Width)
            : DataLoader.DefaultNormalization(trainingRaw);
        training = Normalizer.Apply(training, normalization);
        validation = validation is null ? null : Normalizer.Apply(validation, normalization);

        var options = new TrainingOptions
        {
            Epochs = settings.Epochs,
            BatchSize = settings.BatchSize,
            LearningRate = settings.ParsedLearningRate,
            Optimizer = new OptimizerOptions { Kind = settings.OptimizerKind },
            Corruption = settings.ParsedCorruption,
            Seed = settings.Seed,
            EarlyStoppingPatience = settings.Patience,
            QuantizationAware = settings.Qat ? new Quantization.QuantizationAwareTraining(training) : null,
        };

        string outPath = Path.GetFullPath(settings.Out ?? Path.Combine("artifacts", settings.Model is null ? "digits.eaw" : handle.Name.ToLowerInvariant() + ".eaw"));
        string folder = Path.GetDirectoryName(outPath)!;
        Directory.CreateDirectory(folder);
        options = options with { Checkpoints = CheckpointOptions.Beside(outPath, normalization) };

        ModelTopology topology = handle.Topology;
        IAutoencoder model = handle.Create(settings.Seed);
        if (settings.From is not null)
        {
            WeightFile.Load(settings.From, model);
            environment.Line($"starting from {settings.From}");
        }

        string lossName = topology.Loss == LossKind.BinaryCrossEntropy ? "BCE" : "MSE";
        environment.Line(Invariant($"Training {handle.Name} {topology} ({topology.ParameterCount:N0} parameters) on {training.Count} samples of {raw.Name}{(validation is null ? "" : $", validating on {validation.Count}")}"));
        environment.Line(Invariant($"{OptimizerOptions.KindName(options.Optimizer.Kind)} lr {options.LearningRate}, batch {options.BatchSize}, {options.Epochs} epochs, corruption {options.Corruption}, seed {options.Seed}{(options.EarlyStoppingPatience is { } p ? $", patience {p}" : "")}; normalisation {DataLoader.Describe(normalization)}"));

        var trainer = new Trainer<IAutoencoder>(model, options);
        using var cancellation = CancellationTokenSource.CreateLinkedTokenSource(environment.Cancellation, cancellationToken);
        ConsoleCancelEventHandler onCancel = (_, e) =>
        {
            e.Cancel = true;
            cancellation.Cancel();
        };
        Console.CancelKeyPress += onCancel;
        TrainingResult result;
        try
        {
            result = environment.Interactive
                ? TrainLive(trainer, training, validation, options, lossName, cancellation.Token)
                : TrainPlain(trainer, training, validation, lossName, cancellation.Token);
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }

        // The trainer has restored the best epoch's parameters (also after a cancellation).
        WeightFile.Save(outPath, model, normalization, settings.CodeBits is int bits ? Compression.CodeQuantizer.For(model, training, bits) : null);
        Evaluation final = Trainer<IAutoencoder>.Evaluate(model, training);
        Evaluation? held = validation is null ? null : Trainer<IAutoencoder>.Evaluate(model, validation);
        if (result.Cancelled)
        {
            environment.Line(result.BestEpoch > 0
                ? $"cancelled: kept the best epoch ({result.BestEpoch}) so far"
                : "cancelled before the first epoch ended: the weights are the initial ones");
        }

        environment.Line(Invariant($"final: mean {lossName} {final.MeanLoss:F4}, MSE {final.MeanSquaredError:F5}, PSNR {final.Psnr:F1} dB over {final.Count} training samples{(held is null ? "" : $"; validation mean {lossName} {held.MeanLoss:F4}, MSE {held.MeanSquaredError:F5}, PSNR {held.Psnr:F1} dB")}"));

        var written = new List<string> { outPath };
        if (options.QuantizationAware is { } qat)
        {
            // The int8 model for the activation ranges training used (the float32 weights above are its QAT state).
            string int8Path = Path.Combine(folder, Path.GetFileNameWithoutExtension(outPath) + ".int8" + WeightFile.Extension);
            Quantization.QuantizedParameters int8 = qat.Quantize(model);
            WeightFile.Save(int8Path, int8, normalization);
            IAutoencoder int8Model = handle.CreateInt8();
            ((Quantization.IQuantizedAutoencoder)int8Model).Load(int8);
            Evaluation quantized = Trainer<IAutoencoder>.Evaluate(int8Model, training);
            environment.Line(Invariant($"int8 (QAT): mean {lossName} {quantized.MeanLoss:F4}, MSE {quantized.MeanSquaredError:F5}, PSNR {quantized.Psnr:F1} dB over {quantized.Count} training samples → {int8Path}"));
            written.Add(int8Path);
        }

        if (!settings.NoPlots && result.History.Count > 0)
        {
            string lossPng = Path.Combine(folder, Plots.LossFile);
            string reconstructionsPng = Path.Combine(folder, Plots.ReconstructionsFile);
            Plots.Loss(lossPng, result.History, $"mean {lossName} per element");
            Plots.Reconstructions(reconstructionsPng, model, validation ?? training, options.Corruption, settings.Seed);
            written.Add(lossPng);
            written.Add(reconstructionsPng);
            if (Math.Round(Math.Sqrt(topology.InputSize)) is var side && side * side != topology.InputSize)
            {
                environment.Line($"{topology.InputSize} inputs are not a square image: {Plots.ReconstructionsFile} shows line plots of a few samples");
            }
        }

        environment.Console.Write(Summary(handle, result, final, held, lossName, clock.Elapsed, written));
        environment.Line($"weights: {outPath}");
        return result.Cancelled ? CommandLine.Cancelled : CommandLine.Success;
    }

    /// <summary>The float32 weight file fine-tuning starts from (an int8 file cannot be trained).</summary>
    private static WeightFileInfo StartingPoint(string path)
    {
        if (!File.Exists(path))
        {
            throw new CliException($"weight file not found: {path}");
        }

        WeightFileInfo info = WeightFile.Read(path);
        return info.IsInt8
            ? throw new CliException($"{path} holds an int8 model, which cannot be trained; --from takes the float32 weight file it was quantised from")
            : info;
    }

    private TrainingResult TrainPlain(Trainer<IAutoencoder> trainer, Dataset training, Dataset? validation, string lossName, CancellationToken token)
    {
        trainer.EpochCompleted = (m, report) =>
        {
            environment.Line(Invariant($"epoch {report.Epoch,4}  training {lossName} {report.TrainingLoss:F4}{(report.ValidationLoss is { } v ? $"  validation {lossName} {v:F4}" : "")}  {report.SamplesPerSecond:N0} samples/s{(report.IsBest ? "  *" : "")}"));
        };
        return trainer.Fit(training, validation, null, token);
    }

    private TrainingResult TrainLive(Trainer<IAutoencoder> trainer, Dataset training, Dataset? validation, TrainingOptions options, string lossName, CancellationToken token)
    {
        TrainingResult? result = null;
        environment.Console.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn())
            .Start(ctx =>
            {
                ProgressTask epochs = ctx.AddTask("epochs", maxValue: options.Epochs);
                ProgressTask batches = ctx.AddTask("batches", maxValue: 1);
                string last = "";
                trainer.EpochCompleted = (m, report) =>
                {
                    last = Invariant($"training {lossName} {report.TrainingLoss:F4}{(report.ValidationLoss is { } v ? $", validation {v:F4}" : "")}, {report.SamplesPerSecond:N0} samples/s");
                    epochs.Value = report.Epoch;
                    epochs.Description = Markup.Escape($"epoch {report.Epoch}/{options.Epochs}: {last}");
                };
                result = trainer.Fit(training, validation, p =>
                {
                    batches.MaxValue = p.Batches;
                    batches.Value = p.Batch;
                    batches.Description = Markup.Escape(Invariant($"batch {p.Batch}/{p.Batches} (loss {p.Loss:F4}, {p.SamplesPerSecond:N0} samples/s)"));
                }, token);
                epochs.StopTask();
                batches.StopTask();
            });
        return result!;
    }

    private static Table Summary(ModelHandle handle, TrainingResult result, Evaluation final, Evaluation? held, string lossName, TimeSpan elapsed, IReadOnlyList<string> written)
    {
        ModelTopology t = handle.Topology;
        EpochReport? last = result.History.Count > 0 ? result.History[^1] : null;
        var table = new Table().Title("Summary").AddColumn("what").AddColumn(new TableColumn("value"));
        void Row(string what, string value) => table.AddRow(Markup.Escape(what), Markup.Escape(value));
        Row("model", $"{handle.Name} ({handle.Origin}) {t}");
        Row($"final training {lossName} (last epoch)", last is null ? "-" : Invariant($"{last.TrainingLoss:F4}"));
        Row($"final validation {lossName} (last epoch)", last?.ValidationLoss is { } v ? Invariant($"{v:F4}") : "-");
        Row($"kept weights: training {lossName}", Invariant($"{final.MeanLoss:F4} (MSE {final.MeanSquaredError:F5}, PSNR {final.Psnr:F1} dB)"));
        Row($"kept weights: validation {lossName}", held is null ? "-" : Invariant($"{held.MeanLoss:F4} (MSE {held.MeanSquaredError:F5}, PSNR {held.Psnr:F1} dB)"));
        Row("best epoch", result.BestEpoch > 0 ? Invariant($"{result.BestEpoch} of {result.History.Count}{(result.StoppedEarly ? " (stopped early)" : "")}{(result.Cancelled ? " (cancelled)" : "")}") : "-");
        Row("time", Invariant($"{elapsed.TotalSeconds:F1} s (training {result.Elapsed.TotalSeconds:F1} s)"));
        Row("parameters", Invariant($"{t.ParameterCount:N0}"));
        Row("flash: parameter bytes", Invariant($"{t.ParameterBufferLength * 4L:N0} ({t.ParameterBufferLength:N0} floats with alignment padding)"));
        Row("RAM: inference workspace bytes", Invariant($"{t.InferenceWorkspaceLength * 4L:N0}"));
        Row("RAM: training workspace bytes per sample", Invariant($"{t.WorkspaceLength * 4L:N0}"));
        Row("files", string.Join(Environment.NewLine, written));
        return table;
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
