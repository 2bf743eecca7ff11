using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using EdgeAe.Baselines;
using EdgeAe.Cli.Files;
using EdgeAe.Compression;
using EdgeAe.Data;
using EdgeAe.IO;
using EdgeAe.Training;
using Spectre.Console;
using Spectre.Console.Cli;

namespace EdgeAe.Cli.Commands;

/// <summary>A data file and how it is normalised: the options train and prepare share.</summary>
internal class NormalizedDataSettings : ModelDataSettings
{
    [CommandOption("--scale <N>")]
    [Description("Divide every value by N (default: bundled digits 16, IDX 255, CSV its largest absolute value when above 1).")]
    public string? Scale { get; set; }

    [CommandOption("--standardize")]
    [Description("Standardise each feature to mean 0, std 1 over the training data instead of scaling.")]
    public bool Standardize { get; set; }

    public float? ParsedScale { get; private set; }

    public override ValidationResult Validate()
    {
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

        return base.Validate();
    }
}

internal sealed class TrainSettings : NormalizedDataSettings
{

    [CommandOption("--validation <FILE>")]
    [Description("A validation data file (same format options as --data).")]
    public string? Validation { get; set; }

    protected override IEnumerable<string?> DataFiles => [Data, Validation];

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

    [CommandOption("--threads <N>")]
    [Description("Threads that compute a batch's shards of 32 samples at once (default: every core). The weight file is byte-identical for any N; a batch of one shard runs on one thread, --qat on one thread.")]
    public int? Threads { get; set; }

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

    [CommandOption("--keep <WHICH>")]
    [Description("Which epoch's weights --out gets: last | best (by validation loss with validation data, else by training loss). Default: best with validation data, last without.")]
    public string? Keep { get; set; }

    [CommandOption("--checkpoint-every <TIME>")]
    [Description("Least time between checkpoint writes (.best.eaw, .last.eaw), e.g. 30s, 5m, 0 = every epoch; they are always written at the end.")]
    [DefaultValue("30s")]
    public string CheckpointEvery { get; set; } = "30s";

    [CommandOption("--out <FILE>")]
    [Description("Weight file to write (default artifacts/digits.eaw for the built-in model, artifacts/<model>.eaw otherwise); .best.eaw and .last.eaw checkpoints, loss.png and reconstructions.png are written beside it.")]
    public string? Out { get; set; }

    [CommandOption("--code-bits <N>")]
    [Description("Also store the packet codec's code quantisation (8 or 16 bits per code value) in the weight file: a sigmoid or tanh code's known range, else each code value's min/max over the training data.")]
    public int? CodeBits { get; set; }

    [CommandOption("--qat")]
    [Description("Quantisation-aware training (docs/quantization.md): fake-quantised int8 weights and activations in the forward pass; also writes the int8 model beside --out (<name>.int8.eaw). Usually with --from and a lower --lr.")]
    public bool Qat { get; set; }

    [CommandOption("--from <FILE>")]
    [Description("Start from the parameters of this float32 weight file (fine-tuning) and keep its normalisation, instead of initialising from --seed.")]
    public string? From { get; set; }

    [CommandOption("--shuffle-window <SAMPLES>", IsHidden = true)]
    [Description("Samples per shuffle window (docs/data-cache.md); default: all samples in memory, 64 MiB of a .f32 cache.")]
    public int? ShuffleWindow { get; set; }

    [CommandOption("--shuffle-block <SAMPLES>", IsHidden = true)]
    [Description("Samples per shuffle block (docs/data-cache.md); default: 1 MiB of samples.")]
    public int? ShuffleBlock { get; set; }

    [CommandOption("--no-plots")]
    [Description("Do not write loss.png and reconstructions.png.")]
    public bool NoPlots { get; set; }

    public OptimizerKind OptimizerKind { get; private set; }

    public float ParsedLearningRate { get; private set; }

    public Corruption ParsedCorruption { get; private set; } = Training.Corruption.None;

    public double? ParsedValidationSplit { get; private set; }

    public KeepParameters ParsedKeep { get; private set; }

    public TimeSpan ParsedCheckpointInterval { get; private set; }

    public override IEnumerable<FileArgument> Files =>
    [
        .. base.Files,
        FileArgument.Input("--validation", Validation, "validation data file"),
        FileArgument.Input("--from", From, "weight file"),
        .. Out is null ? [] : string.IsNullOrWhiteSpace(Out) ? [FileArgument.Output("--out", Out, "weight file")] : TrainOutputs.For(Out, NoPlots, Qat).Files,
    ];

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

        if (ShuffleWindow is <= 0)
        {
            return Invalid("--shuffle-window", ShuffleWindow.Value.ToString(CultureInfo.InvariantCulture), "expected a positive integer");
        }

        if (ShuffleBlock is <= 0)
        {
            return Invalid("--shuffle-block", ShuffleBlock.Value.ToString(CultureInfo.InvariantCulture), "expected a positive integer");
        }

        if (Threads is <= 0)
        {
            return Invalid("--threads", Threads.Value.ToString(CultureInfo.InvariantCulture), "expected a positive integer");
        }

        if (Patience is <= 0)
        {
            return Invalid("--patience", Patience.Value.ToString(CultureInfo.InvariantCulture), "expected a positive integer");
        }

        ParsedKeep = Keep?.Trim().ToLowerInvariant() switch
        {
            null => KeepParameters.Automatic,
            "last" => KeepParameters.Last,
            "best" => KeepParameters.Best,
            _ => (KeepParameters)(-1),
        };
        if (ParsedKeep < 0)
        {
            return Invalid("--keep", Keep!, "expected last or best");
        }

        if (ParseInterval(CheckpointEvery) is not { } interval)
        {
            return Invalid("--checkpoint-every", CheckpointEvery, "expected a time such as 30s, 5m, 1h or 0");
        }

        ParsedCheckpointInterval = interval;
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

    /// <summary>"30s", "5m", "1h", "90" (seconds), "0".</summary>
    private static TimeSpan? ParseInterval(string text)
    {
        string t = text.Trim().ToLowerInvariant();
        double unit = t.EndsWith('h') ? 3600 : t.EndsWith('m') ? 60 : 1;
        string number = t.TrimEnd('s', 'm', 'h');
        return double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) && value >= 0 && double.IsFinite(value) && value * unit < TimeSpan.MaxValue.TotalSeconds
            ? TimeSpan.FromSeconds(value * unit)
            : null;
    }
}

/// <summary>The files a training writes: the weight file, its two checkpoints and the plots beside it.</summary>
/// <param name="Given">The weight file as the user named it (messages), <paramref name="Weights"/> its full path.</param>
/// <param name="Int8">With --qat: the int8 model written beside the weight file (<c>name.int8.eaw</c>).</param>
internal sealed record TrainOutputs(string Given, string Weights, string Best, string Last, string? LossPlot, string? ReconstructionsPlot, string? Int8)
{
    public static TrainOutputs For(string weights, bool noPlots, bool qat)
    {
        string full = Path.GetFullPath(weights);
        (string best, string last) = CheckpointOptions.PathsBeside(full);
        string folder = Path.GetDirectoryName(full)!;
        string? int8 = qat ? Path.Combine(folder, Path.GetFileNameWithoutExtension(full) + ".int8" + WeightFile.Extension) : null;
        return new TrainOutputs(weights, full, best, last, noPlots ? null : Path.Combine(folder, Plots.LossFile), noPlots ? null : Path.Combine(folder, Plots.ReconstructionsFile), int8);
    }

    public IEnumerable<FileArgument> Files =>
    [
        FileArgument.Output("--out", Given, "weight file"),
        FileArgument.Output("--out (its .best.eaw checkpoint)", Best, "weight file"),
        FileArgument.Output("--out (its .last.eaw checkpoint)", Last, "weight file"),
        FileArgument.Output("--out (its loss plot)", LossPlot, "plot"),
        FileArgument.Output("--out (its reconstruction plot)", ReconstructionsPlot, "plot"),
        FileArgument.Output("--out (its int8 model, --qat)", Int8, "weight file"),
    ];
}

/// <summary>
/// <c>edgeae train</c>: trains the built-in model or a compiled declaration with live progress (or one line per epoch
/// when output is redirected), checkpoints, a summary table and two plots. Every output is checked before any work
/// and locked for the whole run; an interrupt before the first epoch ends writes nothing.
/// </summary>
internal sealed class TrainCommand(CliEnvironment environment) : EdgeAeCommand<TrainSettings>(environment)
{
    /// <summary>Above this many inputs the PCA baseline's covariance (8·d² bytes) is not worth it; eval says so.</summary>
    private const int BaselineMaxWidth = 4096;

    protected override int Run(TrainSettings settings, CancellationToken cancellationToken)
    {
        // Signals are handled from the start: one during loading or fitting the baseline also ends in order.
        using var interruption = new Interruption(Environment.Cancellation, cancellationToken);
        try
        {
            return Train(settings, interruption);
        }
        catch (OperationCanceledException) when (interruption.Reason is not null)
        {
            Environment.Line($"interrupted ({interruption.Reason}) before training started: nothing was written");
            return interruption.ExitCode;
        }
    }

    private int Train(TrainSettings settings, Interruption interruption)
    {
        CancellationToken cancellationToken = interruption.Token;
        var clock = Stopwatch.StartNew();
        if (!settings.NoPlots)
        {
            Plots.EnsureFonts();
        }

        ModelHandle handle = ModelHandle.Resolve(settings.Model, Environment);
        if (settings.Model is not null)
        {
            Environment.Line($"model: {handle.Name} from {settings.Model} ({(handle.FromCache ? "cache hit" : "compiled and cached")}, {clock.Elapsed.TotalSeconds:F1} s)");
        }

        // Without --out the name comes from the model: check the outputs again now that they are all known.
        TrainOutputs outputs = TrainOutputs.For(settings.Out ?? Path.Combine("artifacts", settings.Model is null ? "digits.eaw" : handle.Name.ToLowerInvariant() + ".eaw"), settings.NoPlots, settings.Qat);
        CommandFiles.Check([.. settings.Files, .. outputs.Files]);
        using OutputLock outputLock = OutputLock.Acquire(outputs.Weights, "--out");
        if (outputLock.StaleHolder is { } stale)
        {
            Environment.Line($"note: took over the lock of an earlier run that did not finish ({stale})");
        }

        // Data: a .f32 cache (already normalised, memory-mapped) or a file read into memory and normalised there.
        ModelTopology topology = handle.Topology;
        WeightFileInfo? from = settings.From is null ? null : StartingPoint(settings, topology.InputSize);
        using TrainingData data = settings.Data is not null && DataLoader.LooksLikeCache(settings.Data)
            ? CachedData(settings, handle, from)
            : InMemoryData(settings, handle, from);
        ISampleSource training = data.Training;
        ISampleSource? validation = data.Validation;
        Normalization normalization = data.Normalization;

        Pca? baseline = FitBaseline(topology, training, cancellationToken);
        WeightFileExtras Extras(IAutoencoder model) => new()
        {
            Codec = settings.CodeBits is int bits ? CodeQuantizer.For(model, training, bits) : null,
            Baseline = baseline,
        };
        void Save(string path, IAutoencoder model) => WeightFile.Save(path, model, normalization, Extras(model));

        var options = new TrainingOptions
        {
            Epochs = settings.Epochs,
            BatchSize = settings.BatchSize,
            Threads = settings.Threads ?? System.Environment.ProcessorCount,
            LearningRate = settings.ParsedLearningRate,
            Optimizer = new OptimizerOptions { Kind = settings.OptimizerKind },
            Corruption = settings.ParsedCorruption,
            Seed = settings.Seed,
            EarlyStoppingPatience = settings.Patience,
            Keep = settings.ParsedKeep,
            Checkpoints = new CheckpointOptions(outputs.Best, outputs.Last, normalization) { Interval = settings.ParsedCheckpointInterval, Writer = Save },
            ShuffleWindow = settings.ShuffleWindow,
            ShuffleBlock = settings.ShuffleBlock,
            QuantizationAware = settings.Qat ? new Quantization.QuantizationAwareTraining(data.InMemory!) : null,
        };
        IAutoencoder model = handle.Create(settings.Seed);
        if (settings.From is not null)
        {
            WeightFile.Load(settings.From, model);
            Environment.Line($"starting from {settings.From}");
        }

        string lossName = Report.LossName(topology.Loss);
        KeepParameters keep = options.Keep != KeepParameters.Automatic ? options.Keep : validation is null ? KeepParameters.Last : KeepParameters.Best;
        Environment.Line(Invariant($"Training {handle.Name} {topology} ({topology.ParameterCount:N0} parameters) on {training.Count} samples of {data.Name}{(validation is null ? "" : $", validating on {validation.Count}")}"));
        Environment.Line(Invariant($"{OptimizerOptions.KindName(options.Optimizer.Kind)} lr {options.LearningRate}, batch {options.BatchSize}, {options.Epochs} epochs, corruption {options.Corruption}, seed {options.Seed}{(options.EarlyStoppingPatience is { } p ? $", patience {p}" : "")}; keeps the {KeepText(keep, validation is not null)}; normalisation {DataLoader.Describe(normalization)}"));

        var trainer = new Trainer<IAutoencoder>(model, options);
        Environment.Line($"parallel: {trainer.Plan(training.Count)}");
        TrainingResult result;
        try
        {
            result = Environment.Interactive
                ? TrainLive(trainer, training, validation, options, lossName, interruption.Token)
                : TrainPlain(trainer, training, validation, lossName, interruption.Token);
        }
        catch (TrainingDivergedException e)
        {
            string kept = File.Exists(outputs.Last) ? $"; {outputs.Last} holds the last finished epoch" : "";
            throw new CliException(Invariant($"training diverged in epoch {e.Epoch}, step {e.Step}: {e.What}; nothing was written to {outputs.Weights}{kept}; try a lower --lr"), inner: e);
        }

        if (result.History.Count == 0)
        {
            // Interrupted before the first epoch ended: there are no trained weights to keep.
            bool existed = File.Exists(outputs.Weights);
            Environment.Line($"interrupted ({interruption.Reason}) before the first epoch ended: nothing was written{(existed ? $"; {outputs.Weights} is unchanged" : "")}");
            WriteJson(settings, handle, data.Name, training, validation, normalization, result, keep, null, null, null, clock, outputs, written: [], interruption.Reason);
            return interruption.ExitCode;
        }

        // The model holds the kept epoch's parameters: the final save is the same complete file as the checkpoints.
        WeightFileExtras extras = Extras(model);
        WeightFile.Save(outputs.Weights, model, normalization, extras);
        var written = new List<string> { outputs.Weights };
        written.AddRange(new[] { outputs.Last, outputs.Best }.Where(File.Exists));
        Evaluation final = Trainer<IAutoencoder>.Evaluate(model, training);
        Evaluation? held = validation is null ? null : Trainer<IAutoencoder>.Evaluate(model, validation);
        BaselineReport? baselineReport = baseline is null ? null : Report.Baseline(baseline, validation ?? training, "train", (held ?? final).MeanSquaredError);
        if (result.Cancelled)
        {
            Environment.Line($"interrupted ({interruption.Reason}) in epoch {result.History.Count + 1}: kept epoch {result.KeptEpoch} ({(result.Kept == KeepParameters.Best ? "the best so far" : "the last finished")})");
        }

        Environment.Line(Invariant($"final: mean {lossName} {Report.Figure(final.MeanLoss, 4)}, MSE {Report.Figure(final.MeanSquaredError, 5)}, PSNR {Report.Psnr(final.Psnr, 1)} over {final.Count} training samples{(held is null ? "" : $"; validation mean {lossName} {Report.Figure(held.MeanLoss, 4)}, MSE {Report.Figure(held.MeanSquaredError, 5)}, PSNR {Report.Psnr(held.Psnr, 1)}")}"));
        if (options.QuantizationAware is { } qat)
        {
            // The int8 model for the activation ranges training used (the float32 weights above are its QAT state), with
            // the float32 file's code ranges and baseline, as quantize carries them.
            Quantization.QuantizedParameters int8 = qat.Quantize(model);
            WeightFile.Save(outputs.Int8!, int8, normalization, extras);
            IAutoencoder int8Model = handle.CreateInt8();
            ((Quantization.IQuantizedAutoencoder)int8Model).Load(int8);
            Evaluation quantized = Trainer<IAutoencoder>.Evaluate(int8Model, training);
            Environment.Line(Invariant($"int8 (QAT): mean {lossName} {Report.Figure(quantized.MeanLoss, 4)}, MSE {Report.Figure(quantized.MeanSquaredError, 5)}, PSNR {Report.Psnr(quantized.Psnr, 1)} over {quantized.Count} training samples → {outputs.Int8}"));
            written.Add(outputs.Int8!);
        }

        if (baselineReport is not null)
        {
            Environment.Line(Report.BaselineLine(baselineReport, validation is null ? "the training data" : "the validation data"));
        }

        if (!settings.NoPlots)
        {
            Plots.Loss(outputs.LossPlot!, result.History, $"mean {lossName} per element");
            Plots.Reconstructions(outputs.ReconstructionsPlot!, model, validation ?? training, options.Corruption, settings.Seed);
            written.Add(outputs.LossPlot!);
            written.Add(outputs.ReconstructionsPlot!);
            if (Math.Round(Math.Sqrt(topology.InputSize)) is var side && side * side != topology.InputSize)
            {
                Environment.Line($"{topology.InputSize} inputs are not a square image: {Plots.ReconstructionsFile} shows line plots of a few samples");
            }
        }

        Environment.Console.Write(Summary(handle, result, final, held, lossName, clock.Elapsed, written));
        Environment.Line($"weights: {outputs.Weights}");
        WriteJson(settings, handle, data.Name, training, validation, normalization, result, keep, final, held, baselineReport, clock, outputs, written, result.Cancelled ? interruption.Reason : null);
        return result.Cancelled ? interruption.ExitCode : CommandLine.Success;
    }

    /// <summary>The data file read into memory: widths checked, split in place, normalised in place.</summary>
    private TrainingData InMemoryData(TrainSettings settings, ModelHandle handle, WeightFileInfo? from)
    {
        // Read, check widths, split in place, fit the normalisation on the training part only, check the
        // targets against the loss, normalise in place (a large file is held once, as float32).
        RawData raw = DataLoader.Load(settings.Data, settings.DataOptionsFor(settings.Data), handle, Environment);
        DataLoader.CheckWidth(raw, handle);
        Dataset training = raw.Data;
        Dataset? validation = null;
        RawData? heldOut = null;
        if (settings.Validation is not null)
        {
            heldOut = DataLoader.Load(settings.Validation, settings.DataOptionsFor(settings.Validation), handle, Environment, "--validation");
            DataLoader.CheckWidth(heldOut, handle);
            validation = heldOut.Data;
        }
        else if (settings.ParsedValidationSplit is { } fraction)
        {
            if (training.Count < 2)
            {
                throw new CliException($"{raw.Name} has {training.Count} sample(s): too few to split off validation data");
            }

            (training, validation) = DatasetSplit.TrainValidationInPlace(training, fraction, settings.Seed);
        }

        Normalization normalization = from is not null ? from.Normalization
            : settings.Standardize ? Normalizer.FitStandardize(training)
            : settings.ParsedScale is { } scale ? Normalization.ScaleBy(scale, training.Width)
            : DataLoader.DefaultNormalization(raw with { Data = training });
        string hint = settings.Standardize
            ? "standardised data is centred on 0; give a binary cross-entropy model data scaled into [0, 1] (--scale N), or declare Loss = SquaredError"
            : "scale it into [0, 1] with --scale N (N ≥ the largest value), or declare Loss = SquaredError";
        DataLoader.CheckTargets(raw, normalization, handle, hint);
        if (heldOut is not null)
        {
            DataLoader.CheckTargets(heldOut, normalization, handle, hint);
        }

        Normalizer.ApplyInPlace(training, normalization);
        if (validation is not null)
        {
            Normalizer.ApplyInPlace(validation, normalization);
        }

        return new TrainingData(raw.Name, training, validation, normalization, training, null);
    }

    /// <summary>
    /// A .f32 cache (docs/data-cache.md): its width, normalisation and value range are checked against the model, the
    /// options and --from, by name; --validation may be a cache prepared the same way or a file normalised like the cache.
    /// </summary>
    private TrainingData CachedData(TrainSettings settings, ModelHandle handle, WeightFileInfo? from)
    {
        if (settings.ParsedValidationSplit is not null)
        {
            throw CliException.Usage($"--validation-split cannot split the .f32 cache {settings.Data}: prepare the validation data as a file of its own and give it as --validation");
        }

        if (settings.Qat)
        {
            throw CliException.Usage($"--qat calibrates on data in memory and cannot train from the .f32 cache {settings.Data}: give the CSV or IDX file");
        }

        DataCache cache = DataLoader.OpenCache(settings.Data!, "--data", settings.DataOptionsFor(settings.Data), handle);
        DataCache? heldOutCache = null;
        try
        {
            string name = Path.GetFileName(settings.Data!);
            Normalization normalization = cache.Normalization;
            string described = DataLoader.Describe(normalization);
            if (from is not null && !from.Normalization.Equals(normalization))
            {
                throw new CliException($"{name} was prepared with the normalisation {described} but --from {settings.From} holds {DataLoader.Describe(from.Normalization)}: prepare the data with the weight file's normalisation, or train from the CSV/IDX file");
            }

            if (settings.ParsedScale is { } scale && !Normalization.ScaleBy(scale, cache.Width).Equals(normalization))
            {
                throw new CliException($"{name} was prepared with the normalisation {described}, not --scale {settings.Scale}: prepare it again with --scale {settings.Scale}, or leave --scale out");
            }

            if (settings.Standardize && normalization.Kind != NormalizationKind.Standardize)
            {
                throw new CliException($"{name} was prepared with the normalisation {described}, not --standardize: prepare it again with --standardize, or leave --standardize out");
            }

            DataLoader.CheckTargets(cache, handle, "prepare it with --scale N (N ≥ the largest value), or declare Loss = SquaredError");

            ISampleSource? validation = null;
            if (settings.Validation is not null && DataLoader.LooksLikeCache(settings.Validation))
            {
                heldOutCache = DataLoader.OpenCache(settings.Validation, "--validation", settings.DataOptionsFor(settings.Validation), handle);
                if (!heldOutCache.Normalization.Equals(normalization))
                {
                    throw new CliException($"--validation {settings.Validation} was prepared with the normalisation {DataLoader.Describe(heldOutCache.Normalization)} but {name} with {described}: prepare both the same way (--scale N, or the training data's standardisation)");
                }

                validation = heldOutCache;
            }
            else if (settings.Validation is not null)
            {
                RawData heldOut = DataLoader.Load(settings.Validation, settings.DataOptionsFor(settings.Validation), handle, Environment, "--validation");
                DataLoader.CheckWidth(heldOut, handle);
                DataLoader.CheckTargets(heldOut, normalization, handle, "scale it into [0, 1], or declare Loss = SquaredError");
                validation = Normalizer.ApplyInPlace(heldOut.Data, normalization);
            }

            return new TrainingData(name, cache, validation, normalization, null, heldOutCache is null ? [cache] : [cache, heldOutCache]);
        }
        catch
        {
            cache.Dispose();
            heldOutCache?.Dispose();
            throw;
        }
    }

    /// <summary>The PCA with the model's code size (at most the width) on the normalised training data, unless the input is very wide.</summary>
    private Pca? FitBaseline(ModelTopology topology, ISampleSource training, CancellationToken cancellationToken)
    {
        if (topology.InputSize > BaselineMaxWidth)
        {
            Environment.Line($"baseline: skipped (PCA of {topology.InputSize} inputs needs a {8L * topology.InputSize * topology.InputSize / (1 << 20):N0} MB covariance)");
            return null;
        }

        var clock = Stopwatch.StartNew();
        Pca pca = Pca.Fit(training, Math.Min(topology.CodeSize, topology.InputSize), cancellationToken);
        if (clock.Elapsed.TotalSeconds >= 1)
        {
            Environment.Line(Invariant($"baseline: PCA with {pca.Components} components fitted on {training.Count} samples in {clock.Elapsed.TotalSeconds:F1} s"));
        }

        return pca;
    }

    private void WriteJson(TrainSettings settings, ModelHandle handle, string dataName, ISampleSource training, ISampleSource? validation, Normalization normalization, TrainingResult result, KeepParameters keep,
        Evaluation? final, Evaluation? held, BaselineReport? baseline, Stopwatch clock, TrainOutputs outputs, IReadOnlyList<string> written, string? interrupted)
    {
        ModelTopology t = handle.Topology;
        Environment.WriteJson(
            new TrainReport("train", handle.Name, t.ToString(), Report.LossKey(t.Loss), dataName, training.Count, validation?.Count, DataLoader.Describe(normalization),
                settings.Epochs, result.History.Count, result.BestEpoch, result.KeptEpoch, keep == KeepParameters.Best ? "best" : "last", result.StoppedEarly, interrupted,
                final is null ? null : FiguresReport.Of(final), held is null ? null : FiguresReport.Of(held), baseline,
                result.History.Select(r => new EpochReportJson(r.Epoch, r.TrainingLoss, r.ValidationLoss, r.Elapsed.TotalSeconds)).ToArray(),
                clock.Elapsed.TotalSeconds, result.Elapsed.TotalSeconds, FootprintReport.Of(t),
                new TrainFilesReport(written.Contains(outputs.Weights) ? outputs.Weights : null, File.Exists(outputs.Best) ? outputs.Best : null, File.Exists(outputs.Last) ? outputs.Last : null,
                    written.Where(w => w.EndsWith(".png", StringComparison.Ordinal)).ToArray())),
            ReportJson.Default.TrainReport);
    }

    private static string KeepText(KeepParameters keep, bool validation) => keep == KeepParameters.Best
        ? $"best epoch by {(validation ? "validation" : "training")} loss"
        : "last epoch";

    /// <summary>
    /// The float32 weight file fine-tuning starts from (an int8 file cannot be trained). It keeps its normalisation, so a
    /// <c>--scale</c> or <c>--standardize</c> that says otherwise is refused rather than ignored.
    /// </summary>
    private static WeightFileInfo StartingPoint(TrainSettings settings, int width)
    {
        string path = settings.From!;
        if (!File.Exists(path))
        {
            throw new CliException($"weight file not found: {path}");
        }

        WeightFileInfo info = WeightFile.Read(path);
        if (info.IsInt8)
        {
            throw new CliException($"{path} holds an int8 model, which cannot be trained; --from takes the float32 weight file it was quantised from");
        }

        string kept = DataLoader.Describe(info.Normalization);
        if (settings.ParsedScale is { } scale && !Normalization.ScaleBy(scale, width).Equals(info.Normalization))
        {
            throw CliException.Usage($"--from {path} keeps its normalisation ({kept}), not --scale {settings.Scale}: leave --scale out, or train from scratch");
        }

        return settings.Standardize && info.Normalization.Kind != NormalizationKind.Standardize
            ? throw CliException.Usage($"--from {path} keeps its normalisation ({kept}), not --standardize: leave --standardize out, or train from scratch")
            : info;
    }

    private TrainingResult TrainPlain(Trainer<IAutoencoder> trainer, ISampleSource training, ISampleSource? validation, string lossName, CancellationToken token)
    {
        trainer.EpochCompleted = (m, report) =>
        {
            Environment.Line(Invariant($"epoch {report.Epoch,4}  training {lossName} {Report.Figure(report.TrainingLoss, 4)}{(report.ValidationLoss is { } v ? $"  validation {lossName} {Report.Figure(v, 4)}" : "")}  {report.SamplesPerSecond:N0} samples/s{(report.IsBest ? "  *" : "")}"));
        };
        return trainer.Fit(training, validation, null, token);
    }

    private TrainingResult TrainLive(Trainer<IAutoencoder> trainer, ISampleSource training, ISampleSource? validation, TrainingOptions options, string lossName, CancellationToken token)
    {
        TrainingResult? result = null;
        Environment.Console.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn())
            .Start(ctx =>
            {
                ProgressTask epochs = ctx.AddTask("epochs", maxValue: options.Epochs);
                ProgressTask batches = ctx.AddTask("batches", maxValue: 1);
                string last = "";
                trainer.EpochCompleted = (m, report) =>
                {
                    last = Invariant($"training {lossName} {Report.Figure(report.TrainingLoss, 4)}{(report.ValidationLoss is { } v ? $", validation {Report.Figure(v, 4)}" : "")}, {report.SamplesPerSecond:N0} samples/s");
                    epochs.Value = report.Epoch;
                    epochs.Description = Markup.Escape($"epoch {report.Epoch}/{options.Epochs}: {last}");
                };
                try
                {
                    result = trainer.Fit(training, validation, p =>
                    {
                        batches.MaxValue = p.Batches;
                        batches.Value = p.Batch;
                        batches.Description = Markup.Escape(Invariant($"batch {p.Batch}/{p.Batches} (loss {Report.Figure(p.Loss, 4)}, {p.SamplesPerSecond:N0} samples/s)"));
                    }, token);
                }
                finally
                {
                    epochs.StopTask();
                    batches.StopTask();
                }
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
        Row($"final training {lossName} (last epoch)", last is null ? "-" : Report.Figure(last.TrainingLoss, 4));
        Row($"final validation {lossName} (last epoch)", last?.ValidationLoss is { } v ? Report.Figure(v, 4) : "-");
        Row("kept weights", Invariant($"epoch {result.KeptEpoch} of {result.History.Count} ({(result.Kept == KeepParameters.Best ? "the best" : "the last")})"));
        Row($"kept weights: training {lossName}", Invariant($"{Report.Figure(final.MeanLoss, 4)} (MSE {Report.Figure(final.MeanSquaredError, 5)}, PSNR {Report.Psnr(final.Psnr, 1)})"));
        Row($"kept weights: validation {lossName}", held is null ? "-" : Invariant($"{Report.Figure(held.MeanLoss, 4)} (MSE {Report.Figure(held.MeanSquaredError, 5)}, PSNR {Report.Psnr(held.Psnr, 1)})"));
        Row("best epoch", result.BestEpoch > 0 ? Invariant($"{result.BestEpoch} of {result.History.Count}{(result.StoppedEarly ? " (stopped early)" : "")}{(result.Cancelled ? " (interrupted)" : "")}") : "-");
        Row("time", Invariant($"{elapsed.TotalSeconds:F1} s (training {result.Elapsed.TotalSeconds:F1} s)"));
        Row("parameters", Invariant($"{t.ParameterCount:N0}"));
        Row("flash: parameter bytes", Invariant($"{t.ParameterBufferLength * 4L:N0} ({t.ParameterBufferLength:N0} floats with alignment padding)"));
        Row("RAM: inference workspace bytes", Invariant($"{t.InferenceWorkspaceLength * 4L:N0}"));
        Row("RAM: training workspace bytes per sample", Invariant($"{t.WorkspaceLength * 4L:N0}"));
        Row("files", string.Join(System.Environment.NewLine, written));
        return table;
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}

/// <summary>The data a training reads: where from (for messages), the samples, the normalisation already applied.</summary>
/// <param name="InMemory">The training samples when they were read into memory (null for a cache).</param>
/// <param name="Caches">Caches to close when training ends.</param>
internal sealed record TrainingData(string Name, ISampleSource Training, ISampleSource? Validation, Normalization Normalization, Dataset? InMemory, DataCache[]? Caches) : IDisposable
{
    public void Dispose()
    {
        foreach (DataCache cache in Caches ?? [])
        {
            cache.Dispose();
        }
    }
}
