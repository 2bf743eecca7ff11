// Training runs here take well under a second each and test no cancellation.
#pragma warning disable xUnit1051
using EdgeAe.Data;
using EdgeAe.Tests.Models;
using EdgeAe.Training;

namespace EdgeAe.Tests.Training;

/// <summary>Data-parallel training: the same weights, bit for bit, whatever the thread count.</summary>
public sealed class DataParallelTests
{
    private static readonly int[] ThreadCounts = [1, 2, 3, 7, 20];

    public static TheoryData<string, OptimizerKind, string, int, int, float?> Cases => new()
    {
        // model, optimizer, corruption, batch, samples (a last partial batch unless a multiple), clip norm
        { nameof(DigitsAe), OptimizerKind.Adam, "none", 64, 300, null },                   // 64→16→64 BCE sigmoid, 2 full shards
        { nameof(DigitsAe), OptimizerKind.Adam, "masking:0.25", 100, 250, null },          // 32+32+32+4, last batch 50
        { nameof(TiedDeepAe), OptimizerKind.Sgd, "gaussian:0.1", 96, 200, null },          // tied weights
        { nameof(TiedSquaredErrorAe), OptimizerKind.Momentum, "none", 30, 95, null },      // MaxBatch 4: shards of 4
        { nameof(TiedSquaredErrorAe), OptimizerKind.Adam, "gaussian:0.2", 90, 200, null },  // 23 shards: 2 rounds of 16 or 20 slots
        { nameof(SquaredErrorReluOutput), OptimizerKind.Nesterov, "saltpepper:0.1", 45, 160, 0.5f }, // ReLU, clipped
        { nameof(DeepSquaredErrorAe), OptimizerKind.Adam, "none", 128, 300, 1f },          // deep, squared error
        { nameof(DeepBceAe), OptimizerKind.Adam, "masking:0.1", 77, 200, null },
        { nameof(WideAe), OptimizerKind.Adam, "none", 64, 150, null },                     // MaxBatch 19, several parameter blocks
        { nameof(TiedTailsAe), OptimizerKind.Sgd, "none", 50, 120, null },                 // MaxBatch 13, tied
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Weights_are_bit_identical_for_any_thread_count(string name, OptimizerKind kind, string corruption, int batch, int samples, float? clip)
    {
        Dataset data = Data(TestModels.Create(name), samples, seed: samples);
        var options = new TrainingOptions
        {
            Epochs = 2,
            BatchSize = batch,
            LearningRate = kind is OptimizerKind.Sgd or OptimizerKind.Momentum or OptimizerKind.Nesterov ? 0.05f : 3e-3f,
            Optimizer = new OptimizerOptions { Kind = kind, WeightDecay = kind == OptimizerKind.Adam ? 1e-4f : 0 },
            Corruption = Corruption.Parse(corruption),
            GradientClipNorm = clip,
            Seed = 5,
        };

        float[]? reference = null;
        IAutoencoder initial = TestModels.Create(name);
        foreach (int threads in ThreadCounts)
        {
            IAutoencoder model = TestModels.Create(name);
            var trainer = new Trainer<IAutoencoder>(model, options with { Threads = threads });
            TrainingPlan plan = trainer.Plan(data.Count);
            Assert.Equal(Math.Min(threads, plan.Shards), plan.Threads);
            trainer.Fit(data);
            float[] weights = model.Parameters.ToArray();
            if (reference is null)
            {
                reference = weights;
                Assert.False(weights.AsSpan().SequenceEqual(initial.Parameters), "training changed the weights");
                continue;
            }

            int differ = FirstDifference(reference, weights);
            Assert.True(differ < 0, $"{threads} threads: parameter [{differ}] is {weights[Math.Max(differ, 0)]:R}, 1 thread gave {reference[Math.Max(differ, 0)]:R}");
        }
    }

    [Fact]
    public void The_784_64_784_weight_file_is_byte_identical_at_1_2_and_7_threads()
    {
        // The Fashion topology: 100k parameters, so the sum and the update run on 25 blocks split across the threads.
        Dataset data = Data(new FashionAe(), 200, seed: 3);
        var options = new TrainingOptions { Epochs = 1, BatchSize = 96, LearningRate = 1e-3f, Optimizer = new OptimizerOptions { Kind = OptimizerKind.Adam }, Seed = 2 };
        string folder = Directory.CreateTempSubdirectory("edgeae-threads-").FullName;
        try
        {
            byte[]? reference = null;
            foreach (int threads in new[] { 1, 2, 7 })
            {
                var model = new FashionAe();
                new Trainer<FashionAe>(model, options with { Threads = threads }).Fit(data);
                string path = Path.Combine(folder, $"t{threads}.eaw");
                EdgeAe.IO.WeightFile.Save(path, model, Normalization.None);
                byte[] bytes = File.ReadAllBytes(path);
                reference ??= bytes;
                Assert.Equal(reference, bytes);
            }
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void A_batch_of_one_shard_runs_on_one_thread_and_says_so()
    {
        var model = new DigitsAe();
        Assert.Equal("batch 32: one shard, 1 thread (4 asked for: no more threads than shards)",
            new Trainer<DigitsAe>(model, new TrainingOptions { BatchSize = 32, Threads = 4 }).Plan(1000).ToString());
        Assert.Equal("batch 64: 2 shards of 32, 2 threads",
            new Trainer<DigitsAe>(model, new TrainingOptions { BatchSize = 64, Threads = 2 }).Plan(1000).ToString());
        Assert.Equal("batch 20: one shard, 1 thread",
            new Trainer<DigitsAe>(model, new TrainingOptions { BatchSize = 256, Threads = 1 }).Plan(20).ToString());

        // A model whose MaxBatch is below the shard size cuts shards of its MaxBatch.
        TrainingPlan tails = new Trainer<TiedTailsAe>(new TiedTailsAe(), new TrainingOptions { BatchSize = 50, Threads = 3 }).Plan(1000);
        Assert.Equal((13, 4, 3), (tails.ShardSize, tails.Shards, tails.Threads));
    }

    [Fact]
    public void Quantisation_aware_training_runs_on_one_thread_and_says_so()
    {
        Dataset digits = BundledData.Digits();
        var options = new TrainingOptions { BatchSize = 64, Threads = 2, QuantizationAware = new EdgeAe.Quantization.QuantizationAwareTraining(digits) };
        TrainingPlan plan = new Trainer<DigitsAe>(new DigitsAe(), options).Plan(digits.Count);
        Assert.Equal(1, plan.Threads);
        Assert.Equal("batch 64: 2 shards of 32, 1 thread (quantisation-aware training runs on one thread)", plan.ToString());
    }

    [Fact]
    public void Threads_must_be_at_least_one()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new Trainer<DigitsAe>(new DigitsAe(), new TrainingOptions { Threads = 0 }));
        Assert.Equal(nameof(TrainingOptions.Threads), error.ParamName);
    }

    [Fact]
    public void An_exception_on_a_worker_thread_surfaces_from_Fit()
    {
        // A model whose shard pass throws on the worker thread (the second shard of each batch).
        var model = new ThrowingOnSecondShard();
        var options = new TrainingOptions { Epochs = 1, BatchSize = 64, Threads = 2 };
        var error = Assert.Throws<InvalidOperationException>(() => new Trainer<IAutoencoder>(model, options).Fit(Data(model, 128, seed: 1)));
        Assert.Equal("shard failed", error.Message);
    }

    [Fact]
    public void Cancellation_stops_a_multi_threaded_training_between_batches()
    {
        using var cancel = new CancellationTokenSource();
        var model = new DigitsAe();
        var options = new TrainingOptions { Epochs = 5, BatchSize = 64, Threads = 2 };
        TrainingResult result = new Trainer<DigitsAe>(model, options).Fit(
            Data(model, 640, seed: 4), progress: p => { if (p.Step == 3) { cancel.Cancel(); } }, cancellationToken: cancel.Token);
        Assert.True(result.Cancelled);
        Assert.Empty(result.History);
    }

    [Theory]
    [InlineData(nameof(WideAe), 2)]
    [InlineData(nameof(WideAe), 3)]
    [InlineData(nameof(FashionAe), 2)]
    [InlineData(nameof(FashionAe), 7)]
    [InlineData(nameof(TiedTailsAe), 2)]
    public void Transposed_copies_made_by_the_update_threads_equal_a_whole_PrepareBatch_every_step(string name, int threads)
    {
        // Two trainings of the same model: one calls PrepareBatch() on this thread before every step, the other lets
        // each update thread make the copies of the rows it updated (PrepareBatch(first, end)). Stale or missing rows
        // would change the gradients of the next step, so the weights would differ.
        Func<IAutoencoder> create = name == nameof(FashionAe) ? () => new FashionAe() : () => TestModels.Create(name);
        IAutoencoder whole = create(), parts = create();
        int width = whole.Topology.InputSize, batch = 3 * Math.Min(TrainingOptions.ShardSize, whole.Topology.MaxBatchSize);
        Dataset data = Data(whole, batch * 6, seed: 9);
        int[] order = Enumerable.Range(0, data.Count).ToArray();
        int shard = Math.Min(TrainingOptions.ShardSize, whole.Topology.MaxBatchSize);
        using var wholeStep = new DataParallelStep(whole, threads, shard, 3);
        using var partsStep = new DataParallelStep(parts, threads, shard, 3);
        var wholeAdam = new Adam(whole.Parameters.Length);
        var partsAdam = new Adam(parts.Parameters.Length);
        int[] counts = [shard, shard, shard];
        int prepared = 0;
        for (int step = 0; step < 6; step++)
        {
            whole.PrepareBatch();
            wholeStep.Round(counts, true, true, 1f / batch, data, order, step * batch);
            Assert.Equal(-1, wholeStep.Update(wholeAdam, 1e-2f, null, null));
            Assert.False(wholeStep.PreparedBatch);

            if (!partsStep.PreparedBatch)
            {
                parts.PrepareBatch();
                prepared++;
            }

            partsStep.Round(counts, true, true, 1f / batch, data, order, step * batch);
            Assert.Equal(-1, partsStep.Update(partsAdam, 1e-2f, null, null, prepareBatch: true));
            Assert.True(partsStep.PreparedBatch);
            int differ = FirstDifference(whole.Parameters.ToArray(), parts.Parameters.ToArray());
            Assert.True(differ < 0, $"step {step}: parameter [{differ}] differs");
        }

        Assert.Equal(1, prepared); // only before the first step
        Assert.False(whole.Parameters.SequenceEqual(create().Parameters), "training changed the weights");
    }

    /// <summary>Seeded samples in [0, 1] (every model's loss accepts them).</summary>
    internal static Dataset Data(IAutoencoder model, int count, int seed)
    {
        int width = model.Topology.InputSize;
        var random = new Random(seed);
        var values = new float[count * width];
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = (float)random.NextDouble();
        }

        return new Dataset(values, count, width);
    }

    private static int FirstDifference(float[] a, float[] b)
    {
        for (int i = 0; i < a.Length; i++)
        {
            if (BitConverter.SingleToInt32Bits(a[i]) != BitConverter.SingleToInt32Bits(b[i]))
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>DigitsAe whose shard pass throws for a shard starting at an odd sample count (the second of a batch of 64).</summary>
    private sealed class ThrowingOnSecondShard : IAutoencoder
    {
        private readonly DigitsAe _inner = new();
        private int _shards;

        public ModelTopology Topology => ((IAutoencoder)_inner).Topology;

        public Span<float> Parameters => _inner.Parameters;

        public Span<float> Gradients => _inner.Gradients;

        public void InitializeParameters(int seed) => _inner.InitializeParameters(seed);

        public void Encode(ReadOnlySpan<float> input, Span<float> code) => _inner.Encode(input, code);

        public void EncodePortable(ReadOnlySpan<float> input, Span<float> code) => _inner.EncodePortable(input, code);

        public void Decode(ReadOnlySpan<float> code, Span<float> output) => _inner.Decode(code, output);

        public void EncodeBatch(ReadOnlySpan<float> inputs, Span<float> codes) => _inner.EncodeBatch(inputs, codes);

        public float Reconstruct(ReadOnlySpan<float> input, Span<float> output) => _inner.Reconstruct(input, output);

        public float Evaluate(ReadOnlySpan<float> input, ReadOnlySpan<float> target) => _inner.Evaluate(input, target);

        public float Score(ReadOnlySpan<float> input) => _inner.Score(input);

        public float ScorePortable(ReadOnlySpan<float> input) => _inner.ScorePortable(input);

        public float ScoreFeatures(ReadOnlySpan<float> input, Span<float> perFeature) => _inner.ScoreFeatures(input, perFeature);

        public float AccumulateGradients(ReadOnlySpan<float> input, ReadOnlySpan<float> target) => _inner.AccumulateGradients(input, target);

        public float AccumulateBatchGradients(ReadOnlySpan<float> inputs, ReadOnlySpan<float> targets) => _inner.AccumulateBatchGradients(inputs, targets);

        public void PrepareBatch() => _inner.PrepareBatch();

        public void PrepareBatch(int firstParameter, int endParameter) => _inner.PrepareBatch(firstParameter, endParameter);

        public TrainingWorker CreateWorker() => _inner.CreateWorker();

        public float AccumulateShardGradients(ReadOnlySpan<float> inputs, ReadOnlySpan<float> targets, TrainingWorker worker)
        {
            if (Interlocked.Increment(ref _shards) == 2)
            {
                throw new InvalidOperationException("shard failed");
            }

            return _inner.AccumulateShardGradients(inputs, targets, worker);
        }

        public float TrainBatch(ReadOnlySpan<float> inputs, ReadOnlySpan<float> targets, float learningRate) => _inner.TrainBatch(inputs, targets, learningRate);

        public void ZeroGradients() => _inner.ZeroGradients();

        public float TrainStep(ReadOnlySpan<float> input, float learningRate) => _inner.TrainStep(input, learningRate);

        public float TrainStep(ReadOnlySpan<float> input, ReadOnlySpan<float> target, float learningRate) => _inner.TrainStep(input, target, learningRate);
    }
}

/// <summary>Runs alone: it counts the bytes every thread of the process allocates.</summary>
[CollectionDefinition(nameof(DataParallelAllocation), DisableParallelization = true)]
public sealed class DataParallelAllocation;

/// <summary>A data-parallel training step allocates nothing, on the driving thread or the workers.</summary>
[Collection(nameof(DataParallelAllocation))]
public sealed class DataParallelAllocationTests
{
    [Theory]
    [InlineData(1, 64)]
    [InlineData(2, 64)]
    [InlineData(2, 200)]
    [InlineData(3, 100)]
    public void Training_steps_allocate_nothing_on_any_thread(int threads, int batch)
    {
        var model = new DigitsAe();
        Dataset data = DataParallelTests.Data(model, 40 * batch, seed: 8);
        var options = new TrainingOptions { Epochs = 1, BatchSize = batch, Threads = threads, Corruption = new MaskingNoise(0.1f), GradientClipNorm = 0.1f, Optimizer = new OptimizerOptions { Kind = OptimizerKind.Adam } };
        // A first training warms the code up (tiered compilation allocates while it recompiles hot methods); then the
        // steps from the fifth to the last of an epoch, on every thread of the process and on the training thread
        // (a window per training; see Allocations for why more than one may be measured).
        new Trainer<DigitsAe>(model, options with { Epochs = 3 }).Fit(data);
        long thread = -1;
        (long least, _, string all) = Allocations.Least(() =>
        {
            long atStep5 = 0, atLast = 0, currentAt5 = 0, currentAtLast = 0;
            new Trainer<DigitsAe>(model, options).Fit(data, progress: p =>
            {
                if (p.Batch == 5)
                {
                    atStep5 = GC.GetTotalAllocatedBytes(precise: true);
                    currentAt5 = GC.GetAllocatedBytesForCurrentThread();
                }
                else if (p.Batch == p.Batches)
                {
                    atLast = GC.GetTotalAllocatedBytes(precise: true);
                    currentAtLast = GC.GetAllocatedBytesForCurrentThread();
                }
            });
            thread = currentAtLast - currentAt5;
            return atLast - atStep5 + thread;
        });

        Assert.True(least == 0, $"every epoch allocated (bytes on all threads plus the training thread's: {all}; the last window's training thread: {thread})");
    }

    [Fact]
    public void The_update_finds_the_first_non_finite_parameter_at_any_place()
    {
        foreach (int length in new[] { 0, 1, 7, 8, 9, 16, 100, 4096 })
        {
            var values = new float[length];
            for (int i = 0; i < length; i++)
            {
                values[i] = (i % 5) - 2.5f; // finite, with zeros and signs
            }

            Assert.Equal(-1, DataParallelStep.FirstNonFinite(values, 40));
            for (int at = 0; at < length; at += Math.Max(1, length / 13))
            {
                foreach (float bad in new[] { float.NaN, float.PositiveInfinity, float.NegativeInfinity })
                {
                    float[] copy = (float[])values.Clone();
                    copy[at] = bad;
                    if (at + 3 < length)
                    {
                        copy[at + 3] = float.NaN; // a later one does not win
                    }

                    Assert.Equal(40 + at, DataParallelStep.FirstNonFinite(copy, 40));
                }
            }
        }

        Assert.Equal(-1, DataParallelStep.FirstNonFinite([float.MaxValue, -float.MaxValue, float.Epsilon, -0f], 0));
    }
}
