using System.Text.Json;
using EdgeAe.IO;

namespace EdgeAe.Cli.Tests;

/// <summary>
/// Issue 13 points 3, 4, 6, 8, 12 and 14 through the real executable: interrupts, the output lock, complete
/// checkpoints, divergence, the kept epoch and the checkpoint interval.
/// </summary>
public sealed class TrainingRunTests : IDisposable
{
    /// <summary>Random 8×8 images, trained at batch size 1: the first epoch takes seconds, time enough for a signal.</summary>
    private const int SlowSamples = 300_000;

    private readonly RealTool _tool = new();

    public void Dispose() => _tool.Dispose();

    [Theory]
    [InlineData(RealTool.SigInt, 130, "SIGINT")]
    [InlineData(RealTool.SigTerm, 143, "SIGTERM")]
    public void Interrupted_before_the_first_epoch_ends_nothing_is_written_and_the_old_file_stays(int signal, int exitCode, string name)
    {
        // Point 3: Ctrl+C saved half-trained parameters over a good --out and said "the weights are the initial ones";
        // SIGTERM killed the process without the orderly stop.
        string good = Train("m.eaw");
        byte[] before = File.ReadAllBytes(good);
        string data = _tool.RandomImages("slow.idx", SlowSamples);
        RealTool.Running training = _tool.Start("train", "--data", data, "--batch-size", "1", "--epochs", "3", "--out", "m.eaw");
        Assert.True(training.WaitFor("keeps the"), "training did not start");
        training.Signal(signal);
        ToolRun run = training.WaitForExit();

        Assert.True(run.ExitCode == exitCode, run.ToString());
        Assert.True(run.Output.Contains($"interrupted ({name}) before the first epoch ended: nothing was written; {good} is unchanged", StringComparison.Ordinal), run.ToString());
        Assert.Equal(before, File.ReadAllBytes(good));
        Assert.False(File.Exists(_tool.PathOf("loss.png")));
        Assert.False(File.Exists(_tool.PathOf("m.eaw.lock")));
        Assert.Empty(Directory.GetFiles(_tool.Folder, "*.tmp"));
    }

    [Fact]
    public void Interrupted_after_an_epoch_the_last_finished_epoch_is_written()
    {
        string data = _tool.RandomImages("slower.idx", 60_000);
        RealTool.Running training = _tool.Start("train", "--data", data, "--batch-size", "1", "--epochs", "1000", "--no-plots", "--out", "m.eaw", "--json");
        Assert.True(training.WaitFor("epoch    1"), "no epoch finished");
        training.Signal(RealTool.SigInt);
        ToolRun run = training.WaitForExit();
        Assert.True(run.ExitCode == 130, run.ToString());
        using JsonDocument report = JsonDocument.Parse(run.Output);
        int epochs = report.RootElement.GetProperty("epochs_run").GetInt32();
        Assert.True(epochs >= 1);
        Assert.Equal(epochs, report.RootElement.GetProperty("kept_epoch").GetInt32());
        Assert.Equal("SIGINT", report.RootElement.GetProperty("interrupted").GetString());
        Assert.Equal(File.ReadAllBytes(_tool.PathOf("m.last.eaw")), File.ReadAllBytes(_tool.PathOf("m.eaw")));
    }

    [Fact]
    public void A_second_training_on_the_same_output_fails_at_once_and_a_stale_lock_is_taken_over()
    {
        // Point 4: two trainings writing the same --out both exited 0 and the last writer won.
        string data = _tool.RandomImages("slow.idx", SlowSamples);
        RealTool.Running first = _tool.Start("train", "--data", data, "--batch-size", "1", "--epochs", "2", "--no-plots", "--out", "same.eaw");
        Assert.True(first.WaitFor("keeps the"), "the first training did not start");
        ToolRun second = _tool.Run("train", "--epochs", "1", "--no-plots", "--out", "./same.eaw");
        Assert.True(second.ExitCode == 1, second.ToString());
        Assert.Contains($"another edgeae run is writing {_tool.PathOf("same.eaw")}", second.Error);
        Assert.DoesNotContain("Training ", second.Output);
        first.Signal(RealTool.SigInt);
        first.WaitForExit();
        Assert.False(File.Exists(_tool.PathOf("same.eaw.lock")));

        // A lock file left by a killed run is not held by anyone: the next run takes it over and says so.
        File.WriteAllText(_tool.PathOf("same.eaw.lock"), "process 99999 since 2026-01-01 00:00:00 UTC\n");
        ToolRun third = _tool.Run("train", "--epochs", "1", "--no-plots", "--out", "same.eaw");
        Assert.True(third.ExitCode == 0, third.ToString());
        Assert.Contains("took over the lock of an earlier run that did not finish (process 99999", third.Output);
        Assert.False(File.Exists(_tool.PathOf("same.eaw.lock")));
    }

    [Fact]
    public void Checkpoints_are_complete_weight_files_of_the_same_model()
    {
        // Point 6: .best.eaw and .last.eaw dropped the qant section, so they had another model id and compress refused them.
        Train("m.eaw", "--code-bits", "8", "--validation-split", "0.2", "--epochs", "4", "--keep", "last");
        foreach (string checkpoint in new[] { "m.best.eaw", "m.last.eaw" })
        {
            WeightFileInfo info = WeightFile.Read(_tool.PathOf(checkpoint));
            Assert.Equal(8, info.CodeBits);
            Assert.NotNull(info.Baseline);
            ToolRun compress = _tool.Run("compress", "--weights", checkpoint, "--out", checkpoint + ".bin");
            Assert.True(compress.ExitCode == 0, compress.ToString());
        }

        Assert.Equal(File.ReadAllBytes(_tool.PathOf("m.last.eaw")), File.ReadAllBytes(_tool.PathOf("m.eaw")));
    }

    [Fact]
    public void A_diverging_bce_training_stops_with_exit_1_naming_epoch_and_step_and_writes_no_output()
    {
        // Point 8: train --lr 1e9 ended with "training BCE 195013282" and exit 0.
        string good = Train("m.eaw");
        byte[] before = File.ReadAllBytes(good);
        ToolRun run = _tool.Run("train", "--lr", "1e9", "--epochs", "5", "--no-plots", "--out", "m.eaw");
        Assert.True(run.ExitCode == 1, run.ToString());
        Assert.Matches(@"edgeae: training diverged in epoch 1, step \d+: the mean loss per element stayed above 100 × the initial loss", run.Error);
        Assert.Contains($"nothing was written to {good}", run.Error);
        Assert.Equal(before, File.ReadAllBytes(good));
    }

    [Fact]
    public void The_kept_epoch_is_explicit_and_printed()
    {
        // Point 12: --out kept the best epoch by (corrupted) training loss even without validation data.
        using JsonDocument plain = TrainJson("plain.eaw", "--corruption", "masking:0.5", "--epochs", "6");
        Assert.Equal("last", plain.RootElement.GetProperty("kept").GetString());
        Assert.Equal(6, plain.RootElement.GetProperty("kept_epoch").GetInt32());

        using JsonDocument best = TrainJson("best.eaw", "--keep", "best", "--epochs", "6", "--lr", "0.5");
        Assert.Equal("best", best.RootElement.GetProperty("kept").GetString());
        Assert.Equal(best.RootElement.GetProperty("best_epoch").GetInt32(), best.RootElement.GetProperty("kept_epoch").GetInt32());

        using JsonDocument validated = TrainJson("validated.eaw", "--validation-split", "0.2", "--epochs", "6");
        Assert.Equal("best", validated.RootElement.GetProperty("kept").GetString());

        ToolRun text = _tool.Run("train", "--epochs", "3", "--no-plots", "--out", "text.eaw");
        Assert.Contains("keeps the last epoch", text.Output);
        Assert.Contains("epoch 3 of 3 (the last)", text.Output);
        ToolRun bad = _tool.Run("train", "--keep", "middle");
        Assert.True(bad.ExitCode == 2, bad.ToString());
        Assert.Contains("invalid value 'middle' for --keep (expected last or best)", bad.Error);
    }

    [Fact]
    public void The_checkpoint_interval_is_an_option()
    {
        // Point 14 (the interval itself is tested in the trainer's tests; the cost is measured in docs/BENCHMARKS.md).
        Train("every.eaw", "--checkpoint-every", "0", "--epochs", "3");
        Train("never.eaw", "--checkpoint-every", "1h", "--epochs", "3");
        Assert.Equal(File.ReadAllBytes(_tool.PathOf("never.last.eaw")), File.ReadAllBytes(_tool.PathOf("never.eaw")));
        ToolRun bad = _tool.Run("train", "--checkpoint-every", "soon");
        Assert.True(bad.ExitCode == 2, bad.ToString());
        Assert.Contains("invalid value 'soon' for --checkpoint-every", bad.Error);
    }

    private string Train(string output, params string[] more)
    {
        ToolRun run = _tool.Run(["train", "--epochs", "2", "--no-plots", "--out", output, .. more]);
        Assert.True(run.ExitCode == 0, run.ToString());
        return _tool.PathOf(output);
    }

    private JsonDocument TrainJson(string output, params string[] more)
    {
        ToolRun run = _tool.Run(["train", "--no-plots", "--json", "--out", output, .. more]);
        Assert.True(run.ExitCode == 0, run.ToString());
        return JsonDocument.Parse(run.Output);
    }
}
