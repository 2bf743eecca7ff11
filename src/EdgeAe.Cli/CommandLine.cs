using System.Diagnostics;
using System.Globalization;
using EdgeAe.Data;

namespace EdgeAe.Cli;

/// <summary>Entry point of the edgeae command line.</summary>
internal static class CommandLine
{
    public const int Success = 0;
    public const int UsageError = 2;

    public static int Run(string[] args, TextWriter output, TextWriter error)
    {
        if (args.Length == 0 || args[0] is "-h" or "--help")
        {
            output.WriteLine("edgeae — train EdgeAe autoencoders on the desktop");
            output.WriteLine();
            output.WriteLine("usage: edgeae train [--epochs N] [--lr RATE] [--seed N]");
            output.WriteLine();
            output.WriteLine("  train   train the default 64→16→64 model on the bundled UCI digits");
            return args.Length == 0 ? UsageError : Success;
        }

        if (args[0] != "train")
        {
            error.WriteLine($"edgeae: unknown command '{args[0]}' (known: train)");
            return UsageError;
        }

        int epochs = 30;
        float learningRate = 0.05f;
        int seed = 1;
        for (int i = 1; i < args.Length; i++)
        {
            string option = args[i];
            if (i + 1 >= args.Length)
            {
                error.WriteLine($"edgeae train: option '{option}' needs a value");
                return UsageError;
            }

            string value = args[++i];
            switch (option)
            {
                case "--epochs" when int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out int e) && e > 0:
                    epochs = e;
                    break;
                case "--lr" when float.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out float lr) && lr > 0 && float.IsFinite(lr):
                    learningRate = lr;
                    break;
                case "--seed" when int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out int s):
                    seed = s;
                    break;
                case "--epochs" or "--lr" or "--seed":
                    error.WriteLine($"edgeae train: invalid value '{value}' for {option} (expected a positive number)");
                    return UsageError;
                default:
                    error.WriteLine($"edgeae train: unknown option '{option}'");
                    return UsageError;
            }
        }

        return TrainDefault(epochs, learningRate, seed, output);
    }

    private static int TrainDefault(int epochs, float learningRate, int seed, TextWriter output)
    {
        Dataset digits = BundledData.Digits();
        var model = new DigitsAe(seed);
        output.WriteLine($"Training {DigitsAe.Topology} on {digits.Count} bundled UCI digits (8×8, pixels/16), plain SGD lr {learningRate.ToString(CultureInfo.InvariantCulture)}, {epochs} epochs.");

        var order = Enumerable.Range(0, digits.Count).ToArray();
        var random = new Random(seed);
        var stopwatch = Stopwatch.StartNew();
        for (int epoch = 1; epoch <= epochs; epoch++)
        {
            random.Shuffle(order);
            double sum = 0;
            foreach (int index in order)
            {
                sum += model.TrainStep(digits[index], learningRate);
            }

            double meanBce = Metrics.MeanPerElement(LossKind.BinaryCrossEntropy, sum / digits.Count, DigitsAe.InputSize);
            output.WriteLine(FormattableString.Invariant($"epoch {epoch,3}  training BCE {meanBce:F4}"));
        }

        var reconstruction = new float[DigitsAe.InputSize];
        double bce = 0, mse = 0;
        for (int i = 0; i < digits.Count; i++)
        {
            bce += model.Reconstruct(digits[i], reconstruction);
            mse += Metrics.MeanSquaredError(reconstruction, digits[i]);
        }

        output.WriteLine(FormattableString.Invariant(
            $"final: mean BCE {Metrics.MeanPerElement(LossKind.BinaryCrossEntropy, bce / digits.Count, DigitsAe.InputSize):F4}, MSE {mse / digits.Count:F5} over {digits.Count} digits in {stopwatch.Elapsed.TotalSeconds:F1} s"));
        return Success;
    }
}
