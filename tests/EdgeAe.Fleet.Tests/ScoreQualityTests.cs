using System.Globalization;
using EdgeAe.Compression;
using EdgeAe.Data;
using EdgeAe.Training;

namespace EdgeAe.Fleet.Tests;

/// <summary>
/// What the server's score is worth. A server has the packet, not the device's input x, so it scores the decoded
/// sample x̂ = Decode(q(Encode(x))) (<see cref="ModelScorer"/> on x̂), where the device scores x itself and sends that
/// score in a version-3 packet: the device score here is the one the server reads from the packet.
/// Measured with the one-class protocol on the bundled digits: train on one class (the first two thirds of it), score
/// the rest of that class (normal) and every other digit (anomalous), ROC AUC of both scores. The figures are in
/// docs/fleet.md ("What the server's score means").
/// </summary>
public sealed class ScoreQualityTests
{
    [Fact]
    public void The_servers_score_of_the_decoded_sample_separates_classes_but_less_well_than_the_devices_score_of_the_input()
    {
        Dataset digits = BundledData.Digits();
        var server = new double[10];
        var device = new double[10];
        for (int k = 0; k < 10; k++)
        {
            int[] normal = Enumerable.Range(0, digits.Count).Where(i => digits.Labels![i] == k).ToArray();
            int split = normal.Length * 2 / 3;
            var model = new FleetDigitsAe();
            new Trainer<FleetDigitsAe>(model, new TrainingOptions { Epochs = 60, BatchSize = 16, LearningRate = 3e-3f, Seed = 1 + k }).Fit(digits.Select(normal[..split]), cancellationToken: TestContext.Current.CancellationToken);
            var codec = new PacketCodec(model, FleetDigitsAe.CodeQuantizer, 1);
            var scorer = new ModelScorer(model);
            var packet = new byte[codec.ScoredPacketLength];
            var decoded = new float[64];
            var test = normal[split..].Concat(Enumerable.Range(0, digits.Count).Where(i => digits.Labels![i] != k)).ToArray();
            var labels = test.Select(i => digits.Labels![i] != k).ToArray();
            var onDevice = new double[test.Length];
            var onServer = new double[test.Length];
            for (int t = 0; t < test.Length; t++)
            {
                codec.Encode(digits[test[t]], (uint)t, packet, out _);
                PacketInfo info = codec.Decode(packet, decoded);
                onDevice[t] = info.DeviceScore!.Value; // the device's score as the server receives it
                onServer[t] = scorer.Score(decoded);
            }

            device[k] = Auc(onDevice, labels);
            server[k] = Auc(onServer, labels);
        }

        string line = string.Create(CultureInfo.InvariantCulture,
            $"one-class digits AUC, mean over 10 classes: device score of x {device.Average():0.000}, server score of x̂ {server.Average():0.000}; per class (device/server): {string.Join(", ", Enumerable.Range(0, 10).Select(k => $"{k}: {device[k]:0.00}/{server[k]:0.00}"))}");
        TestContext.Current.TestOutputHelper?.WriteLine(line);
        File.AppendAllText(Environment.GetEnvironmentVariable("EDGEAE_FLEET_LOAD_REPORT") ?? Path.Combine(Path.GetTempPath(), "edgeae-fleet-load.md"), "| " + line + " |" + Environment.NewLine);
        Assert.True(server.Average() > 0.6, line); // it carries signal (chance is 0.5) …
        Assert.True(device.Average() > server.Average(), line); // … less than the input-space score a device can compute
    }

    /// <summary>ROC AUC: the probability that a random anomaly scores above a random normal sample (ties count half).</summary>
    private static double Auc(double[] scores, bool[] anomalous)
    {
        double[] normal = scores.Where((_, i) => !anomalous[i]).ToArray();
        double[] abnormal = scores.Where((_, i) => anomalous[i]).ToArray();
        double wins = 0;
        foreach (double a in abnormal)
        {
            foreach (double n in normal)
            {
                wins += a > n ? 1 : a == n ? 0.5 : 0;
            }
        }

        return wins / ((double)normal.Length * abnormal.Length);
    }
}
