using System.Globalization;
using EdgeAe.Data;
using EdgeAe.IO;
using EdgeAe.Training;

namespace EdgeAe.Cli;

/// <summary>Entry point of the edgeae command line.</summary>
internal static class CommandLine
{
    public const int Success = 0;
    public const int Failure = 1;
    public const int UsageError = 2;

    public const string Usage = """
        edgeae — train EdgeAe autoencoders on the desktop

        usage: edgeae train [options]

          train   train the default 64→16→64 model on the bundled UCI digits and write its weights

        options of train:
          --epochs N           passes over the data (default 200)
          --batch-size N       samples per step (default 32)
          --optimizer NAME     adam | sgd | momentum | nesterov (default adam)
          --lr RATE            learning rate (default 0.01)
          --corruption SPEC    none | masking:V | gaussian:S | saltpepper:P (default none)
          --seed N             seed of initialisation, shuffling and corruption (default 1)
          --out FILE           weight file to write (default artifacts/digits.eaw); the best and the
                               last epoch are also checkpointed beside it (.best.eaw, .last.eaw)
        """;

    public static int Run(string[] args, TextWriter output, TextWriter error)
    {
        if (args.Length == 0 || args[0] is "-h" or "--help")
        {
            output.WriteLine(Usage);
            return args.Length == 0 ? UsageError : Success;
        }

        if (args[0] != "train")
        {
            error.WriteLine($"edgeae: unknown command '{args[0]}' (known: train)");
            return UsageError;
        }

        var settings = new TrainSettings();
        for (int i = 1; i < args.Length; i++)
        {
            string option = args[i];
            if (option is "-h" or "--help")
            {
                output.WriteLine(Usage);
                return Success;
            }

            if (i + 1 >= args.Length)
            {
                error.WriteLine($"edgeae train: option '{option}' needs a value");
                return UsageError;
            }

            string value = args[++i];
            string? problem = settings.Set(option, value);
            if (problem is not null)
            {
                error.WriteLine($"edgeae train: {problem}");
                return UsageError;
            }
        }

        try
        {
            return TrainDefault(settings, output);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or WeightFileException or TrainingDivergedException)
        {
            error.WriteLine($"edgeae train: {e.Message}");
            return Failure;
        }
    }

    private static int TrainDefault(TrainSettings settings, TextWriter output)
    {
        Dataset digits = BundledData.Digits();
        var model = new DigitsAe(settings.Seed);
        var options = new TrainingOptions
        {
            Epochs = settings.Epochs,
            BatchSize = settings.BatchSize,
            LearningRate = settings.LearningRate,
            Optimizer = new OptimizerOptions { Kind = settings.Optimizer },
            Corruption = settings.Corruption,
            Seed = settings.Seed,
        };
        output.WriteLine(FormattableString.Invariant(
            $"Training {DigitsAe.Topology} ({DigitsAe.ParameterCount:N0} parameters) on {digits.Count} bundled UCI digits (8×8, pixels/16)"));
        output.WriteLine(FormattableString.Invariant(
            $"{OptimizerOptions.KindName(options.Optimizer.Kind)} lr {options.LearningRate}, batch {options.BatchSize}, {options.Epochs} epochs, corruption {options.Corruption}, seed {options.Seed}"));

        string outPath = Path.GetFullPath(settings.OutPath);
        Directory.CreateDirectory(Path.GetDirectoryName(outPath)!);
        string stem = Path.Combine(Path.GetDirectoryName(outPath)!, Path.GetFileNameWithoutExtension(outPath));
        Normalization normalization = Normalization.ScaleBy(BundledData.DigitsPixelMax, DigitsAe.InputSize);
        int every = Math.Max(1, options.Epochs / 20);
        var trainer = new Trainer<DigitsAe>(model, options)
        {
            EpochCompleted = (m, report) =>
            {
                WeightFile.Save(stem + ".last.eaw", m, normalization);
                if (report.IsBest)
                {
                    WeightFile.Save(stem + ".best.eaw", m, normalization);
                }

                if (report.Epoch % every == 0 || report.Epoch == 1 || report.Epoch == options.Epochs)
                {
                    output.WriteLine(FormattableString.Invariant($"epoch {report.Epoch,4}  training BCE {report.TrainingLoss:F4}  {report.SamplesPerSecond:N0} samples/s"));
                }
            },
        };

        using var cancellation = new CancellationTokenSource();
        ConsoleCancelEventHandler onCancel = (_, e) =>
        {
            e.Cancel = true;
            cancellation.Cancel();
        };
        Console.CancelKeyPress += onCancel;
        TrainingResult result;
        try
        {
            result = trainer.Fit(digits, null, null, cancellation.Token);
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }

        Evaluation evaluation = Trainer<DigitsAe>.Evaluate(model, digits);
        WeightFile.Save(outPath, model, normalization);
        output.WriteLine(FormattableString.Invariant(
            $"{(result.Cancelled ? "cancelled; kept the best epoch" : "final")}: mean BCE {evaluation.MeanLoss:F4}, MSE {evaluation.MeanSquaredError:F5}, PSNR {evaluation.Psnr:F1} dB over {evaluation.Count} digits (best epoch {result.BestEpoch}, {result.Elapsed.TotalSeconds:F1} s)"));
        output.WriteLine($"weights: {outPath}");
        return Success;
    }

    /// <summary>The options of <c>edgeae train</c>, parsed and validated one by one.</summary>
    private sealed class TrainSettings
    {
        public int Epochs { get; private set; } = 200;

        public int BatchSize { get; private set; } = 32;

        public OptimizerKind Optimizer { get; private set; } = OptimizerKind.Adam;

        public float LearningRate { get; private set; } = 1e-2f;

        public Corruption Corruption { get; private set; } = Corruption.None;

        public int Seed { get; private set; } = 1;

        public string OutPath { get; private set; } = Path.Combine("artifacts", "digits.eaw");

        /// <summary>Sets one option; returns a one-line problem, or null.</summary>
        public string? Set(string option, string value)
        {
            switch (option)
            {
                case "--epochs":
                    return PositiveInt(option, value, v => Epochs = v);
                case "--batch-size":
                    return PositiveInt(option, value, v => BatchSize = v);
                case "--seed":
                    if (!int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out int seed))
                    {
                        return $"invalid value '{value}' for --seed (expected an integer)";
                    }

                    Seed = seed;
                    return null;
                case "--lr":
                    if (!float.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out float lr) || !(lr > 0) || !float.IsFinite(lr))
                    {
                        return $"invalid value '{value}' for --lr (expected a positive number)";
                    }

                    LearningRate = lr;
                    return null;
                case "--optimizer":
                    try
                    {
                        Optimizer = OptimizerOptions.ParseKind(value);
                        return null;
                    }
                    catch (ArgumentException e)
                    {
                        return $"invalid value '{value}' for --optimizer: {Plain(e)}";
                    }

                case "--corruption":
                    try
                    {
                        Corruption = Corruption.Parse(value);
                        return null;
                    }
                    catch (ArgumentException e)
                    {
                        return $"invalid value for --corruption: {Plain(e)}";
                    }

                case "--out":
                    OutPath = value;
                    return null;
                default:
                    return $"unknown option '{option}' (see edgeae train --help)";
            }
        }

        /// <summary>An argument exception's message without the "(Parameter 'x')" suffix meant for developers.</summary>
        private static string Plain(ArgumentException e)
            => e.ParamName is null ? e.Message : e.Message.Replace($" (Parameter '{e.ParamName}')", string.Empty, StringComparison.Ordinal);

        private static string? PositiveInt(string option, string value, Action<int> set)
        {
            if (!int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) || v <= 0)
            {
                return $"invalid value '{value}' for {option} (expected a positive integer)";
            }

            set(v);
            return null;
        }
    }
}
