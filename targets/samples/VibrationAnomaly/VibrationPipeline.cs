using EdgeAe;
using EdgeAe.Anomaly;
using EdgeAe.Data;
using EdgeAe.Training;

namespace VibrationAnomaly;

/// <summary>How one fault was detected in the stream.</summary>
public sealed record FaultDetection(Fault Fault, double? DelaySeconds);

/// <summary>What the streaming run measured.</summary>
public sealed record StreamReport(float Threshold, string Calibration, IReadOnlyList<FaultDetection> Faults, int FalseAlarms, double NormalHours, int Windows)
{
    public double FalseAlarmsPerHour => FalseAlarms / NormalHours;
}

/// <summary>
/// Frames of 256 samples (125 ms) → 16 log band energies (64 Hz bands, 0–1,024 Hz) → windows of the last 4 frames (64
/// inputs, step one frame) → the model's score → a 3-of-5 vote. Trained on normal signal only, calibrated on a held-out
/// 10 % of its windows (percentile 99.9), then run over a stream with faults.
/// </summary>
public static class VibrationPipeline
{
    public const int FrameLength = 256;
    public const int Bands = 16;
    public const int Frames = 4;
    public const int VoteK = 8;
    public const int VoteN = 10;

    /// <summary>After a fault ends, alarms within this many seconds still belong to it (the window and the vote remember it).</summary>
    public const double GraceSeconds = (Frames + VoteN) * FrameLength / VibrationSignal.SampleRate;

    private static readonly double[] Cosine = Enumerable.Range(0, FrameLength).Select(n => Math.Cos(2 * Math.PI * n / FrameLength)).ToArray();
    private static readonly double[] Sine = Enumerable.Range(0, FrameLength).Select(n => Math.Sin(2 * Math.PI * n / FrameLength)).ToArray();

    /// <summary>16 log(1 + energy) features of one frame: the DFT's bins 1–127 summed 8 by 8.</summary>
    public static void Features(ReadOnlySpan<float> frame, Span<float> features)
    {
        features.Clear();
        for (int k = 1; k < FrameLength / 2; k++)
        {
            double re = 0, im = 0;
            for (int n = 0; n < FrameLength; n++)
            {
                int angle = (k * n) % FrameLength;
                re += frame[n] * Cosine[angle];
                im -= frame[n] * Sine[angle];
            }

            features[k / (FrameLength / 2 / Bands)] += (float)(((re * re) + (im * im)) / FrameLength);
        }

        for (int b = 0; b < Bands; b++)
        {
            features[b] = MathF.Log(1 + features[b]);
        }
    }

    /// <summary>The feature frames of <paramref name="seconds"/> of signal.</summary>
    public static float[][] FeatureFrames(VibrationSignal signal, double seconds, out double[] frameTimes)
    {
        int count = (int)(seconds * VibrationSignal.SampleRate / FrameLength);
        var frames = new float[count][];
        frameTimes = new double[count];
        var samples = new float[FrameLength];
        for (int i = 0; i < count; i++)
        {
            signal.Next(samples);
            frameTimes[i] = signal.Time; // the end of the frame
            frames[i] = new float[Bands];
            Features(samples, frames[i]);
        }

        return frames;
    }

    /// <summary>Every window of <see cref="Frames"/> consecutive frames, as rows of a data set.</summary>
    public static Dataset Windows(float[][] frames)
    {
        var window = new SlidingWindow(Frames, Bands);
        var values = new List<float>();
        foreach (float[] frame in frames)
        {
            window.Push(frame);
            if (window.IsFull)
            {
                values.AddRange(window.Current.ToArray());
            }
        }

        return new Dataset(values.ToArray(), values.Count / (Frames * Bands), Frames * Bands);
    }

    /// <summary>Trains on normal signal, calibrates, streams the faulty signal; returns the delays and false alarms.</summary>
    public static StreamReport Run(double trainingSeconds, double streamSeconds, Fault[] faults, int epochs, TextWriter? log = null)
    {
        // 1. Normal data only, a validation split held out for calibration.
        float[][] normalFrames = FeatureFrames(new VibrationSignal(seed: 1), trainingSeconds, out _);
        Dataset windows = Windows(normalFrames);
        (Dataset train, Dataset validation) = DatasetSplit.TrainValidation(windows, 0.1, seed: 1);
        Normalization normalization = Normalizer.FitStandardize(train);
        train = Normalizer.Apply(train, normalization);
        validation = Normalizer.Apply(validation, normalization);
        var model = new VibrationAe();
        var options = new TrainingOptions { Epochs = epochs, BatchSize = 64, LearningRate = 1e-3f, Optimizer = new OptimizerOptions { Kind = OptimizerKind.Adam }, Seed = 1 };
        TrainingResult trained = new Trainer<VibrationAe>(model, options).Fit(train, validation);
        log?.WriteLine($"trained on {train.Count} windows ({trainingSeconds / 60:F0} min of normal signal), best validation MSE {trained.Best?.ValidationLoss:F4} at epoch {trained.BestEpoch}");

        var method = CalibrationMethod.Parse(validation.Count >= 1000 ? "percentile:99.9" : "percentile:99");
        AnomalyThreshold threshold = Calibration.FromNormalScores(AnomalyScore.ScoreAll(model, validation), method);
        log?.WriteLine($"threshold {threshold.Threshold:G6} ({threshold.Method} on {threshold.SampleCount} validation windows)");

        // 2. The stream: frame by frame, as a device would run it.
        var signal = new VibrationSignal(seed: 2, faults);
        var window = new SlidingWindow(Frames, Bands);
        DecisionSmoother vote = DecisionSmoother.Vote(VoteK, VoteN, threshold.Threshold);
        var samples = new float[FrameLength];
        var frame = new float[Bands];
        var input = new float[Frames * Bands];
        var firstAlarm = new double?[faults.Length];
        int falseAlarms = 0, windowCount = 0;
        bool alarmed = false;
        int frameCount = (int)(streamSeconds * VibrationSignal.SampleRate / FrameLength);
        for (int i = 0; i < frameCount; i++)
        {
            signal.Next(samples);
            double time = signal.Time;
            Features(samples, frame);
            window.Push(frame);
            if (!window.IsFull)
            {
                continue;
            }

            window.Current.CopyTo(input);
            normalization.Apply(input);
            bool alarm = vote.Add(model.Score(input));
            windowCount++;
            if (alarm && !alarmed)
            {
                int during = Array.FindIndex(faults, f => time >= f.Start && time < f.End + GraceSeconds);
                if (during >= 0)
                {
                    firstAlarm[during] ??= time - faults[during].Start;
                }
                else
                {
                    falseAlarms++;
                    log?.WriteLine($"false alarm at {time:F2} s");
                }
            }

            alarmed = alarm;
        }

        double faultSeconds = faults.Sum(f => Math.Min(f.End + GraceSeconds, streamSeconds) - f.Start);
        return new StreamReport(threshold.Threshold, threshold.Method.ToString(), faults.Select((f, k) => new FaultDetection(f, firstAlarm[k])).ToArray(), falseAlarms, (streamSeconds - faultSeconds) / 3600, windowCount);
    }
}
