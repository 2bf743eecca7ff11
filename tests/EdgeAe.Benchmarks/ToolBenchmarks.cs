using BenchmarkDotNet.Attributes;
using EdgeAe.Data;
using EdgeAe.Training;
using Pca = EdgeAe.Baselines.Pca;

namespace EdgeAe.Benchmarks;

/// <summary>
/// The PCA baseline's fit on Fashion-MNIST's 60,000 training images (784 features, pixels ÷ 255), with the
/// code sizes of the M1 model (64) and a small one (16); the synthetic stand-in has the same shape when the
/// Debian package dataset-fashion-mnist is absent. Run with a short job: each fit takes seconds,
/// e.g. <c>-- --filter '*PcaFit*' --warmupCount 1 --iterationCount 3</c>.
/// </summary>
[MemoryDiagnoser]
public class PcaFit
{
    private Dataset _data = null!;

    [Params(16, 64)]
    public int Components { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        if (FashionMnist.IsAvailable)
        {
            Dataset raw = FashionMnist.LoadTrain();
            _data = Normalizer.Apply(raw, Normalizer.FitScale(raw, FashionMnist.PixelMax));
        }
        else
        {
            Console.WriteLine("// dataset-fashion-mnist is not installed: fitting 60000 × 784 uniform random values instead");
            var random = new Random(1);
            var values = new float[60000 * 784];
            for (int i = 0; i < values.Length; i++)
            {
                values[i] = (float)random.NextDouble();
            }

            _data = new Dataset(values, 60000, 784);
        }
    }

    [Benchmark]
    public double Fit() => Pca.Fit(_data, Components).Variances[0];
}

/// <summary>
/// CSV parsing: a 64-column file of small integers (the digits' shape) read into float32; the memory diagnoser's
/// "Allocated" against the float data (rows × 64 × 4 bytes) shows what the reader holds beyond the data.
/// </summary>
[MemoryDiagnoser]
public class CsvParse
{
    private string _path = null!;

    [Params(100_000)]
    public int Rows { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _path = Path.Combine(Path.GetTempPath(), $"edgeae-csv-bench-{Rows}.csv");
        var random = new Random(1);
        using var writer = new StreamWriter(_path);
        for (int r = 0; r < Rows; r++)
        {
            for (int c = 0; c < 64; c++)
            {
                writer.Write(c == 0 ? "" : ",");
                writer.Write(random.Next(17));
            }

            writer.Write('\n');
        }
    }

    [GlobalCleanup]
    public void Cleanup() => File.Delete(_path);

    [Benchmark]
    public int Read() => CsvReader.Read(_path).Count;
}

/// <summary>A wine-sized model (13 → 8 → 4 → 8 → 13, squared error): training cost is small, so checkpoint writes show.</summary>
[Autoencoder(Input = 13, Loss = Loss.SquaredError, Seed = 2)]
[Encoder(8, Activation.Tanh)]
[Code(4, Activation.Linear)]
[Decoder(8, Activation.Tanh)]
[Output(Activation.Linear)]
public partial class WineAe;

/// <summary>
/// 300 epochs of 178 wine-sized samples with checkpoints written to disk after every epoch (interval 0, the old
/// behaviour) against the 30-second default (written once, at the end). Each write is a weight file flushed to disk
/// and renamed; run from a folder on a real disk, not tmpfs.
/// </summary>
[MemoryDiagnoser]
public class CheckpointCost
{
    private readonly string _folder = Path.Combine(AppContext.BaseDirectory, "checkpoint-bench");
    private Dataset _data = null!;

    [Params(0, 30)]
    public int IntervalSeconds { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        Directory.CreateDirectory(_folder);
        var random = new Random(9);
        var values = new float[178 * 13];
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = (float)(random.NextDouble() * 2 - 1);
        }

        _data = new Dataset(values, 178, 13);
    }

    [GlobalCleanup]
    public void Cleanup() => Directory.Delete(_folder, recursive: true);

    [Benchmark]
    public int Train()
    {
        var checkpoints = new CheckpointOptions(Path.Combine(_folder, "w.best.eaw"), Path.Combine(_folder, "w.last.eaw"), Normalization.None) { Interval = TimeSpan.FromSeconds(IntervalSeconds) };
        var options = new TrainingOptions { Epochs = 300, BatchSize = 32, LearningRate = 1e-2f, Checkpoints = checkpoints };
        return new Trainer<WineAe>(new WineAe(), options).Fit(_data).History.Count;
    }
}
