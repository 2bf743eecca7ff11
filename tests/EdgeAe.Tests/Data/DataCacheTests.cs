// Training runs here take well under a second and test no cancellation.
#pragma warning disable xUnit1051
using System.Buffers.Binary;
using EdgeAe.Data;
using EdgeAe.Tests.Models;
using EdgeAe.Training;

namespace EdgeAe.Tests.Data;

/// <summary>Issue 18, data larger than memory: the .f32 cache, its typed errors, and the shuffle order it shares with memory.</summary>
public sealed class DataCacheTests : IDisposable
{
    private readonly TempFiles _files = new();

    public void Dispose() => _files.Dispose();

    /// <summary>Raw samples (values 0–16 like the digits, deterministic), enough for several 1 MiB cache blocks of width 64.</summary>
    private static Dataset Raw(int count, int width = 64, int seed = 5)
    {
        var random = new SplitMix64((ulong)seed);
        var values = new float[count * width];
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = random.NextInt32(17);
        }

        return new Dataset(values, count, width);
    }

    private string Write(string name, Dataset raw, Func<DataCacheStatistics, Normalization> choose)
    {
        string path = _files.Path(name);
        DataCache.Write(path, raw.Width, writer =>
        {
            for (int s = 0; s < raw.Count; s++)
            {
                writer.Add(raw[s]);
            }
        }, choose);
        return path;
    }

    [Fact]
    public void A_cache_holds_the_samples_normalised_exactly_as_train_normalises_them()
    {
        Dataset raw = Raw(9000);
        foreach ((string name, Func<DataCacheStatistics, Normalization> choose, Normalization expected) in new[]
        {
            ("standardized.f32", (Func<DataCacheStatistics, Normalization>)(s => s.FitStandardize()), Normalizer.FitStandardize(raw)),
            ("scaled.f32", s => Normalization.ScaleBy(s.MaxAbsolute, s.Width), Normalization.ScaleBy(16, 64)),
        })
        {
            string path = Write(name, raw, choose);
            Dataset normalised = Normalizer.Apply(raw, expected);
            using DataCache cache = DataCache.Open(path);
            Assert.Equal(expected, cache.Normalization);
            Assert.Equal((9000, 64, 4096, 3), (cache.Count, cache.Width, cache.BlockSamples, cache.Blocks));
            float min = float.PositiveInfinity, max = float.NegativeInfinity;
            for (int s = 0; s < raw.Count; s++)
            {
                Assert.True(normalised[s].SequenceEqual(cache[s]), $"{name} sample {s}");
                foreach (float v in normalised[s])
                {
                    min = Math.Min(min, v);
                    max = Math.Max(max, v);
                }
            }

            Assert.Equal((min, max), (cache.Minimum, cache.Maximum));
            Assert.Equal(0, (new FileInfo(path).Length - (cache.DataOffset + (9000L * 64 * 4) + (4 * 3) + 4)));
            Assert.Equal(0, cache.DataOffset % 64);
        }
    }

    [Theory]
    [InlineData(DataCacheAccess.Read)]
    [InlineData(DataCacheAccess.Map)]
    public void Reading_holds_at_most_the_limit_of_blocks_at_a_time(DataCacheAccess access)
    {
        string path = Write("bounded.f32", Raw(20000), s => Normalization.ScaleBy(16, 64));
        using DataCache cache = DataCache.Open(path, access);
        Assert.Equal(5, cache.Blocks);
        cache.ReserveWindow(windowSamples: 10000, shuffleBlockSamples: 5000);
        Assert.Equal(5, cache.MappedBlocksLimit); // no more than there are
        cache.ReserveWindow(windowSamples: 10, shuffleBlockSamples: 10);
        Assert.Equal(4, cache.MappedBlocksLimit); // two windows of one shuffle block, each across up to two cache blocks
        for (int s = 0; s < cache.Count; s += 7)
        {
            Assert.Equal(cache[s][0], cache[s][0]);
            Assert.True(cache.MappedBlocks <= 4);
        }

        Assert.Equal(4, cache.MappedBlocks);
        cache.ReleaseAll();
        Assert.Equal(0, cache.MappedBlocks);
    }

    [Theory]
    [InlineData(DataCacheAccess.Read)]
    [InlineData(DataCacheAccess.Map)]
    public void Reading_held_samples_and_the_windowed_order_allocate_nothing(DataCacheAccess access)
    {
        string path = Write("hot.f32", Raw(9000), s => Normalization.ScaleBy(16, 64));
        using DataCache cache = DataCache.Open(path, access);
        cache.ReserveWindow(windowSamples: 9000, shuffleBlockSamples: 600);
        var order = new SampleOrder(9000, blockSamples: 600, windowSamples: 2400);
        var random = new SplitMix64(7);
        var copy = new float[64];

        void Run()
        {
            order.Shuffle(ref random);
            foreach (int i in order.Indices)
            {
                cache[i].CopyTo(copy);
            }
        }

        Run(); // maps the three blocks, once
        Allocations.AssertNoneOnThisThread(() =>
        {
            Run();
            Run();
        });
    }

    [Theory]
    [InlineData(0, 0, DataCacheAccess.Read)] // one window: today's Fisher–Yates
    [InlineData(0, 0, DataCacheAccess.Map)]
    [InlineData(2500, 600, DataCacheAccess.Read)] // windows of 4 blocks of 600 samples, across the cache's 4096-sample blocks
    [InlineData(2500, 600, DataCacheAccess.Map)]
    [InlineData(1, 1, DataCacheAccess.Read)] // blocks and windows of one sample: the block permutation is today's permutation again
    public void Training_from_a_cache_gives_the_same_weights_as_training_from_memory(int window, int block, DataCacheAccess access)
    {
        // With corruption this thread copies the samples; without, the two worker threads copy them (two shards of 32 per
        // batch) from the blocks this thread made resident, or this thread does when a round's samples lie in more blocks
        // than the cache holds (windows and blocks of one sample).
        foreach (Corruption corruption in new Corruption[] { new MaskingNoise(0.2f), Corruption.None })
        {
            SameWeights(window, block, access, corruption);
        }
    }

    private void SameWeights(int window, int block, DataCacheAccess access, Corruption corruption)
    {
        Dataset raw = Raw(9000);
        Normalization scale = Normalization.ScaleBy(16, 64);
        string path = Write("train.f32", raw, _ => scale);
        var options = new TrainingOptions
        {
            Epochs = 2, BatchSize = 64, LearningRate = 1e-2f, Seed = 3, Corruption = corruption, Threads = 2,
            ShuffleWindow = window == 0 ? null : window, ShuffleBlock = block == 0 ? null : block,
        };

        var fromMemory = new DigitsAe();
        TrainingResult memory = new Trainer<DigitsAe>(fromMemory, options).Fit(Normalizer.Apply(raw, scale));
        var fromCache = new DigitsAe();
        TrainingResult cached;
        using (DataCache cache = DataCache.Open(path, access))
        {
            cached = new Trainer<DigitsAe>(fromCache, options).Fit(cache, cache);
        }

        Assert.True(fromMemory.Parameters.SequenceEqual(fromCache.Parameters));
        Assert.Equal(memory.History.Select(h => h.TrainingLoss), cached.History.Select(h => h.TrainingLoss));

        // The default order from memory is today's, unchanged: one Fisher–Yates per epoch over every sample (which the
        // permutation of one-sample blocks also is); other windows give other orders.
        var today = new DigitsAe();
        new Trainer<DigitsAe>(today, options with { ShuffleWindow = null, ShuffleBlock = null }).Fit(Normalizer.Apply(raw, scale));
        Assert.Equal(window <= 1, today.Parameters.SequenceEqual(fromMemory.Parameters));
    }

    [Fact]
    public void One_window_is_todays_fisher_yates_and_windows_visit_every_sample_once_in_their_blocks()
    {
        var random = new SplitMix64(42);
        var expected = Enumerable.Range(0, 1000).ToArray();
        var reference = new SplitMix64(42);
        var whole = new SampleOrder(1000, blockSamples: 64, windowSamples: 1000);
        Assert.False(whole.Windowed);
        for (int epoch = 0; epoch < 3; epoch++)
        {
            whole.Shuffle(ref random);
            reference.Shuffle<int>(expected);
            Assert.Equal(expected, whole.Indices);
        }

        var windowed = new SampleOrder(1000, blockSamples: 64, windowSamples: 200); // 3 blocks per window
        Assert.True(windowed.Windowed);
        Assert.Equal(192, windowed.WindowSamples);
        windowed.Shuffle(ref random);
        int[] order = windowed.Indices;
        Assert.Equal(Enumerable.Range(0, 1000), order.Order());
        Assert.NotEqual(Enumerable.Range(0, 1000), order);
        int position = 0;
        int windows = 0;
        while (position < order.Length)
        {
            // Each window is whole blocks: its samples come from at most 3 blocks, and every sample of those blocks is in it.
            var blocks = new HashSet<int>();
            int end = position;
            while (end < order.Length && (blocks.Contains(order[end] / 64) || blocks.Count < 3))
            {
                blocks.Add(order[end] / 64);
                end++;
            }

            int size = blocks.Sum(b => Math.Min(1000, (b + 1) * 64) - (b * 64));
            Assert.True(end - position >= size, $"window {windows} is not whole blocks");
            position += size;
            windows++;
        }

        Assert.Equal((1000 + 191) / 192, windows);
    }

    [Fact]
    public void Block_checksums_are_crc32c()
    {
        Assert.Equal(0xE3069283u, BlockCrc32.Of("123456789"u8));
        Assert.Equal(System.IO.Hashing.Crc32.HashToUInt32("123456789"u8), Crc32.Final(Crc32.Update(Crc32.Initial, "123456789"u8)));
        var bytes = new byte[1000];
        new Random(3).NextBytes(bytes);
        uint reference = 0xFFFFFFFFu;
        foreach (byte b in bytes)
        {
            reference ^= b;
            for (int k = 0; k < 8; k++)
            {
                reference = (reference & 1) != 0 ? (reference >> 1) ^ 0x82F63B78u : reference >> 1;
            }
        }

        Assert.Equal(~reference, BlockCrc32.Of(bytes));
    }

    [Fact]
    public void A_truncated_damaged_or_foreign_file_is_a_typed_error()
    {
        string path = Write("good.f32", Raw(5000), s => s.FitStandardize());
        byte[] good = File.ReadAllBytes(path);

        DataCacheProblem Problem(byte[] bytes, bool read = false)
        {
            string bad = _files.Bytes("bad.f32", bytes);
            var e = Assert.Throws<DataCacheException>(() =>
            {
                using DataCache cache = DataCache.Open(bad);
                if (read)
                {
                    cache.VerifyAll();
                }
            });
            Assert.Equal(bad, e.FilePath);
            Assert.StartsWith(bad + ": ", e.Message);
            return e.Problem;
        }

        Assert.Equal(DataCacheProblem.Truncated, Problem(good[..^1]));
        Assert.Equal(DataCacheProblem.Truncated, Problem(good[..40]));
        Assert.Equal(DataCacheProblem.Truncated, Problem(good[..(good.Length / 2)]));
        Assert.Equal(DataCacheProblem.Corrupt, Problem([.. good, 0]));
        Assert.Equal(DataCacheProblem.NotACache, Problem("1,2,3\n4,5,6\n"u8.ToArray()));
        Assert.Equal(DataCacheProblem.NotACache, Problem([]));

        byte[] version = (byte[])good.Clone();
        BinaryPrimitives.WriteInt32LittleEndian(version.AsSpan(8), 2);
        Assert.Equal(DataCacheProblem.UnsupportedVersion, Problem(version));

        byte[] header = (byte[])good.Clone();
        header[DataCache.FixedHeaderBytes + 3] ^= 0x10; // inside the offsets
        Assert.Equal(DataCacheProblem.ChecksumMismatch, Problem(header));

        byte[] sample = (byte[])good.Clone();
        sample[(int)CacheHeader.DataOffsetFor(64) + (4096 * 64 * 4) + 100] ^= 0x01; // block 2
        Assert.Equal(DataCacheProblem.ChecksumMismatch, Problem(sample, read: true));
        string damaged = _files.Bytes("damaged.f32", sample);
        foreach (DataCacheAccess access in Enum.GetValues<DataCacheAccess>())
        {
            using DataCache cache = DataCache.Open(damaged, access);
            Assert.Equal(cache[4095][0], cache[4095][0]); // block 1 is intact
            var e = Assert.Throws<DataCacheException>(() => cache[4096].ToArray());
            Assert.Contains("block 2 of 2 (samples 4097–5000)", e.Message);
            Assert.Equal(DataCacheProblem.ChecksumMismatch, e.Problem);
        }

        byte[] table = (byte[])good.Clone();
        table[^6] ^= 0x01;
        Assert.Equal(DataCacheProblem.ChecksumMismatch, Problem(table));
    }

    [Fact]
    public void Hold_says_when_samples_lie_in_more_blocks_than_the_cache_holds_and_training_then_copies_them_itself()
    {
        // 20 000 samples of 64 floats: five blocks of 4096; windows of one sample hold four blocks at most.
        Dataset raw = Raw(20000);
        Normalization scale = Normalization.ScaleBy(16, 64);
        string path = Write("hold.f32", raw, _ => scale);
        using (DataCache cache = DataCache.Open(path))
        {
            cache.ReserveWindow(windowSamples: 1, shuffleBlockSamples: 1);
            Assert.Equal(4, cache.MappedBlocksLimit);
            Assert.True(cache.Hold([0, 4096, 8192, 12288]));
            Assert.False(cache.Hold([0, 4096, 8192, 12288, 16384]));
            Assert.True(cache.Hold([19999, 5]));
            Assert.Equal(raw[19999][3] / 16f, cache[19999][3]);
        }

        var options = new TrainingOptions { Epochs = 1, BatchSize = 64, LearningRate = 1e-2f, Seed = 4, Threads = 2, ShuffleWindow = 1, ShuffleBlock = 1 };
        var fromMemory = new DigitsAe();
        new Trainer<DigitsAe>(fromMemory, options).Fit(Normalizer.Apply(raw, scale));
        var fromCache = new DigitsAe();
        using (DataCache cache = DataCache.Open(path))
        {
            new Trainer<DigitsAe>(fromCache, options).Fit(cache);
        }

        Assert.True(fromMemory.Parameters.SequenceEqual(fromCache.Parameters));
    }

    [Theory]
    [InlineData(DataCacheAccess.Read)]
    [InlineData(DataCacheAccess.Map)]
    public void Read_ahead_checksums_blocks_on_its_thread_and_a_damaged_block_still_fails_its_own_read(DataCacheAccess access)
    {
        // 9000 samples of 64 floats: blocks of 4096 samples, the second one damaged.
        string path = Write("ahead.f32", Raw(9000), s => Normalization.ScaleBy(16, 64));
        byte[] bytes = File.ReadAllBytes(path);
        bytes[(int)CacheHeader.DataOffsetFor(64) + (4096 * 64 * 4) + 100] ^= 0x01;
        string damaged = _files.Bytes("ahead-damaged.f32", bytes);
        int[] everySample = Enumerable.Range(0, 9000).Reverse().ToArray();

        using (DataCache cache = DataCache.Open(path, access))
        {
            cache.ReadAhead(everySample);
            cache.ReadAhead(everySample); // queued or verified already: read once
            Assert.True(SpinWait.SpinUntil(() => cache.BlocksVerifiedAhead == 3, TimeSpan.FromSeconds(30)), $"{cache.BlocksVerifiedAhead} of 3 blocks");
            Assert.Equal(3, cache.BlocksVerifiedAhead);
            Assert.Equal(Raw(9000)[8999][5] / 16f, cache[8999][5]);
            Assert.Throws<ArgumentOutOfRangeException>(() => cache.ReadAhead([9000]));
        }

        DataCache second = DataCache.Open(damaged, access);
        second.ReadAhead(everySample);
        Assert.True(SpinWait.SpinUntil(() => second.BlocksVerifiedAhead == 2, TimeSpan.FromSeconds(30)), $"{second.BlocksVerifiedAhead} of 2 intact blocks");
        Assert.Equal(second[0][0], second[0][0]);
        var e = Assert.Throws<DataCacheException>(() => second[4096].ToArray());
        Assert.Equal(DataCacheProblem.ChecksumMismatch, e.Problem);
        Assert.Contains("block 2 of 3", e.Message);
        second.Dispose(); // stops the thread
        Assert.Throws<ObjectDisposedException>(() => second.ReadAhead([0]));
    }

    [Fact]
    public void Blocks_read_ahead_are_taken_in_request_order_and_older_requests_are_dropped()
    {
        // 12 blocks of 256 samples of 1024 floats (1 MiB each): more than the read-ahead keeps ready at once.
        Dataset raw = Raw(12 * 256, width: 1024);
        string path = Write("ahead-order.f32", raw, _ => Normalization.ScaleBy(16, 1024));
        using (DataCache cache = DataCache.Open(path))
        {
            Assert.Equal(256, cache.BlockSamples);
            cache.ReadAhead(Enumerable.Range(0, raw.Count).ToArray());
            Assert.True(SpinWait.SpinUntil(() => cache.BlocksReadyAhead == 8, TimeSpan.FromSeconds(30)), $"{cache.BlocksReadyAhead} of 8 blocks ready");
            Thread.Sleep(50);
            Assert.Equal(8, cache.BlocksReadyAhead); // no more than ReadyLimit before the first is taken

            // Each block's first sample read once the block is ready: every block comes from the read-ahead, intact.
            for (int s = 0; s < raw.Count; s++)
            {
                int block = s / 256;
                if (s % 256 == 0)
                {
                    Assert.True(SpinWait.SpinUntil(() => cache.BlocksReadyAhead > block, TimeSpan.FromSeconds(30)), $"block {block} never ready");
                }

                Assert.Equal(raw[s][s % 1024] / 16f, cache[s][s % 1024]);
            }

            Assert.Equal(12, cache.BlocksTakenAhead);
            Assert.Equal(12, cache.BlocksVerifiedAhead);
        }

        // Asked for in the order 11, 10, …, 0 but read from block 0: the older requests' buffers are dropped, and those
        // blocks are read (and checksummed) by the cache's own reads, correctly.
        using (DataCache cache = DataCache.Open(path))
        {
            int[] backwards = Enumerable.Range(0, raw.Count).Reverse().ToArray();
            cache.ReadAhead(backwards);
            Assert.True(SpinWait.SpinUntil(() => cache.BlocksReadyAhead == 8, TimeSpan.FromSeconds(30)), $"{cache.BlocksReadyAhead} of 8 blocks ready");
            Assert.Equal(raw[0][7] / 16f, cache[0][7]); // block 0: requested last, never read ahead
            Assert.Equal(0, cache.BlocksTakenAhead);
            for (int s = 0; s < raw.Count; s++)
            {
                Assert.Equal(raw[s][s % 1024] / 16f, cache[s][s % 1024]);
            }

            Assert.Equal(0, cache.BlocksTakenAhead);
            Thread.Sleep(50);
            Assert.Equal(8, cache.BlocksReadyAhead); // the requests passed were not read after all
        }
    }

    [Fact]
    public void A_cache_of_the_wrong_width_or_range_is_refused_by_the_trainer()
    {
        string wide = Write("wide.f32", Raw(100, width: 65), s => Normalization.ScaleBy(16, 65));
        using (DataCache cache = DataCache.Open(wide))
        {
            var e = Assert.Throws<ArgumentException>(() => new Trainer<DigitsAe>(new DigitsAe(), new TrainingOptions()).Fit(cache));
            Assert.Contains("65 values per sample but the model's input width is 64", e.Message);
        }

        string signed = Write("signed.f32", Raw(100), s => s.FitStandardize());
        using (DataCache cache = DataCache.Open(signed))
        {
            var e = Assert.Throws<ArgumentException>(() => new Trainer<DigitsAe>(new DigitsAe(), new TrainingOptions()).Fit(cache));
            Assert.Contains(signed, e.Message);
            Assert.Contains("binary cross-entropy model needs every value in [0, 1]", e.Message);
        }
    }

    [Fact]
    public void A_failed_write_leaves_the_previous_cache()
    {
        string path = Write("keep.f32", Raw(100), s => Normalization.ScaleBy(16, 64));
        byte[] before = File.ReadAllBytes(path);
        Assert.Throws<ArgumentException>(() => DataCache.Write(path, 64, writer =>
        {
            writer.Add(new float[64]);
            writer.Add(Enumerable.Repeat(float.NaN, 64).ToArray());
        }, s => Normalization.None));
        Assert.Throws<ArgumentException>(() => DataCache.Write(path, 64, writer => writer.Add(Enumerable.Repeat(1e30f, 64).ToArray()), s => Normalization.ScaleBy(1e-30f, 64)));
        Assert.Throws<ArgumentException>(() => DataCache.Write(path, 64, _ => { }, s => Normalization.None));
        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.Single(Directory.GetFiles(_files.Directory));
    }
}
