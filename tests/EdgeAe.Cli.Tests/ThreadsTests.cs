namespace EdgeAe.Cli.Tests;

/// <summary><c>edgeae train --threads N</c> through the real executable: the same seed gives the same file for any N.</summary>
public sealed class ThreadsTests : IDisposable
{
    private readonly RealTool _tool = new();

    public void Dispose() => _tool.Dispose();

    [Fact]
    public void Train_with_1_2_and_5_threads_writes_byte_identical_weight_files()
    {
        string data = _tool.RandomImages("images.idx", 1_000);
        byte[]? reference = null;
        foreach (string threads in new[] { "1", "2", "5" })
        {
            string output = $"t{threads}.eaw";
            ToolRun run = _tool.Run("train", "--data", data, "--batch-size", "100", "--epochs", "2", "--corruption", "masking:0.2", "--seed", "4", "--threads", threads, "--no-plots", "--out", output);
            Assert.True(run.ExitCode == 0, run.ToString());
            string plan = threads == "1" ? "parallel: batch 100: 4 shards of 32, 1 thread" : $"parallel: batch 100: 4 shards of 32, {(threads == "5" ? "4 threads (5 asked for: no more threads than shards)" : "2 threads")}";
            Assert.True(run.Output.Contains(plan, StringComparison.Ordinal), run.ToString());
            byte[] bytes = File.ReadAllBytes(_tool.PathOf(output));
            reference ??= bytes;
            Assert.Equal(reference, bytes);
        }
    }

    [Fact]
    public void A_batch_of_one_shard_says_it_runs_on_one_thread()
    {
        string data = _tool.RandomImages("few.idx", 200);
        ToolRun run = _tool.Run("train", "--data", data, "--batch-size", "32", "--epochs", "1", "--threads", "2", "--no-plots", "--out", "one.eaw");
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.True(run.Output.Contains("parallel: batch 32: one shard, 1 thread (2 asked for: no more threads than shards)", StringComparison.Ordinal), run.ToString());
    }

    [Fact]
    public void Zero_threads_is_a_usage_error_naming_the_option()
    {
        string data = _tool.RandomImages("any.idx", 50);
        ToolRun run = _tool.Run("train", "--data", data, "--threads", "0", "--no-plots", "--out", "zero.eaw");
        Assert.NotEqual(0, run.ExitCode);
        Assert.Contains("--threads", run.ToString(), StringComparison.Ordinal);
        Assert.False(File.Exists(_tool.PathOf("zero.eaw")));
    }
}
