using BenchmarkDotNet.Attributes;
using EdgeAe.Data;
using EdgeAe.Training;

namespace EdgeAe.Benchmarks;

/// <summary>
/// Issue 18, data larger than memory: M1 (784 → 64 → 784, Adam, batch 64) trained for <see cref="Steps"/> steps on
/// Fashion-MNIST's 60 000 training images in memory, from their <c>.f32</c> cache (188 MB, three 64 MiB shuffle
/// windows; read by pread, or mapped), in memory with the cache's windowed order (what the order alone costs) and, when EDGEAE_SCALE_DIR holds the 5 GB cache of the opt-in measurement (docs/data-cache.md), from that.
/// A run of 1 step measures what a training costs besides its steps (buffers, the checks of the data — a scan of
/// every value in memory); the rate is (Steps − 1) × 64 ÷ (time(Steps) − time(1)).
/// <c>dotnet run -c Release --project tests/EdgeAe.Benchmarks -- --filter '*DataCacheTraining*'</c>
/// </summary>
[MemoryDiagnoser]
public class DataCacheTraining
{
    private static readonly TrainingOptions Options = new()
    {
        Epochs = 100,
        BatchSize = 64,
        LearningRate = 1e-3f,
        Optimizer = new OptimizerOptions { Kind = OptimizerKind.Adam },
        Seed = 1,
    };

    private ISampleSource _data = null!;
    private TrainingOptions _options = Options;
    private string? _folder;

    public static IEnumerable<string> Sources()
    {
        yield return "memory";
        yield return "memory-windowed";
        yield return "cache";
        yield return "cache-mapped";
        if (Environment.GetEnvironmentVariable("EDGEAE_SCALE_DIR") is { Length: > 0 } folder && File.Exists(Path.Combine(folder, "fashion-x27.f32")))
        {
            yield return "cache-5GB";
        }
    }

    [ParamsSource(nameof(Sources))]
    public string Source { get; set; } = "memory";

    [Params(1, 2000)]
    public int Steps { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        if (Source == "cache-5GB")
        {
            _data = DataCache.Open(Path.Combine(Environment.GetEnvironmentVariable("EDGEAE_SCALE_DIR")!, "fashion-x27.f32"));
            return;
        }

        Dataset train = FashionMnist.LoadTrain();
        Normalization scale = Normalizer.FitScale(train, FashionMnist.PixelMax);
        if (Source.StartsWith("memory", StringComparison.Ordinal))
        {
            _data = Normalizer.Apply(train, scale);
            _options = Source == "memory" ? Options : Options with { ShuffleWindow = (int)(DataCache.DefaultWindowBytes / (train.Width * sizeof(float)) / DataCache.BlockSamplesFor(train.Width) * DataCache.BlockSamplesFor(train.Width)) };
            return;
        }

        _folder = Directory.CreateTempSubdirectory("edgeae-cache-bench-").FullName;
        string path = Path.Combine(_folder, "fashion.f32");
        DataCache.Write(path, train.Width, writer =>
        {
            for (int s = 0; s < train.Count; s++)
            {
                writer.Add(train[s]);
            }
        }, _ => scale);
        _data = DataCache.Open(path, Source == "cache-mapped" ? DataCacheAccess.Map : DataCacheAccess.Read);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        (_data as IDisposable)?.Dispose();
        if (_folder is not null)
        {
            Directory.Delete(_folder, recursive: true);
        }
    }

    [Benchmark(Description = "train M1 Adam b64")]
    public int Train()
    {
        using var stop = new CancellationTokenSource();
        int steps = 0;
        new Trainer<M1Ae>(new M1Ae(), _options).Fit(_data, null, p =>
        {
            steps = (int)p.Step;
            if (p.Step == Steps)
            {
                stop.Cancel();
            }
        }, stop.Token);
        return steps;
    }
}
