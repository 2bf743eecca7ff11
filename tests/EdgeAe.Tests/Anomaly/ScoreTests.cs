using EdgeAe.Anomaly;
using EdgeAe.Data;
using EdgeAe.IO;
using EdgeAe.Tests.IO;
using EdgeAe.Tests.Models;

namespace EdgeAe.Tests.Anomaly;

/// <summary>The one score: what it is, how close the fast and portable paths are, per-feature terms, no allocation.</summary>
public sealed class ScoreTests
{
    /// <summary>
    /// Largest relative difference allowed between <c>Score</c> (SIMD, FMA, vector exp) and <c>ScorePortable</c> (the
    /// firmware's arithmetic); docs/anomaly.md states it.
    /// </summary>
    public const double PortableTolerance = 5e-6;

    public static TheoryData<string> ModelNames => ["DigitsAe", "OverCompleteAe", "DeepBceAe", "DeepSquaredErrorAe"];

    private static IAutoencoder Create(string name, int seed) => name switch
    {
        "DigitsAe" => WeightFileTestKit.Randomized<DigitsAe>(seed),
        "OverCompleteAe" => WeightFileTestKit.Randomized<OverCompleteAe>(seed),
        "DeepBceAe" => WeightFileTestKit.Randomized<DeepBceAe>(seed),
        _ => WeightFileTestKit.Randomized<DeepSquaredErrorAe>(seed),
    };

    private static float[] Input(IAutoencoder model, Random random)
        => Enumerable.Range(0, model.Topology.InputSize).Select(_ => (float)random.NextDouble()).ToArray();

    [Theory]
    [MemberData(nameof(ModelNames))]
    public void Score_is_the_mean_per_element_of_the_loss_Reconstruct_returns(string name)
    {
        IAutoencoder model = Create(name, 3);
        var random = new Random(4);
        var output = new float[model.Topology.InputSize];
        for (int i = 0; i < 50; i++)
        {
            float[] x = Input(model, random);
            float loss = model.Reconstruct(x, output);
            Assert.Equal(AnomalyScore.FromLoss(model.Topology.Loss, loss, x.Length), model.Score(x));
            Assert.Equal((float)Metrics.MeanPerElement(model.Topology.Loss, loss, x.Length), model.Score(x));
        }
    }

    [Theory]
    [MemberData(nameof(ModelNames))]
    public void Fast_and_portable_scores_agree_within_the_stated_tolerance(string name)
    {
        IAutoencoder model = Create(name, 5);
        var random = new Random(6);
        double worst = 0;
        for (int i = 0; i < 200; i++)
        {
            float[] x = Input(model, random);
            float fast = model.Score(x), portable = model.ScorePortable(x);
            worst = Math.Max(worst, Math.Abs(fast - portable) / Math.Max(Math.Abs(portable), 1e-30));
        }

        Report.Line($"{name}: largest relative difference Score vs ScorePortable over 200 inputs {worst:E2}");
        Assert.True(worst <= PortableTolerance, $"{worst:E2}");
    }

    [Theory]
    [MemberData(nameof(ModelNames))]
    public void Feature_terms_average_to_the_portable_score(string name)
    {
        IAutoencoder model = Create(name, 7);
        var random = new Random(8);
        var terms = new float[model.Topology.InputSize];
        for (int i = 0; i < 50; i++)
        {
            float[] x = Input(model, random);
            float score = model.ScoreFeatures(x, terms);
            Assert.Equal(model.ScorePortable(x), score);
            double mean = terms.Sum(t => (double)t) / terms.Length;
            Assert.Equal(score, mean, Math.Abs(score) * 1e-6);
        }
    }

    [Fact]
    public void Feature_terms_name_the_channel_that_deviates()
    {
        // A squared-error model trained briefly on a smooth signal; then one channel is pushed far off.
        var model = new DeepSquaredErrorAe();
        var random = new Random(2);
        for (int step = 0; step < 3000; step++)
        {
            double phase = random.NextDouble() * 6.28;
            float[] x = Enumerable.Range(0, 9).Select(j => (float)Math.Sin(phase + (j * 0.4))).ToArray();
            model.TrainStep(x, 0.02f);
        }

        float[] sample = Enumerable.Range(0, 9).Select(j => (float)Math.Sin(1 + (j * 0.4))).ToArray();
        float normal = model.Score(sample);
        sample[5] += 4f;
        var terms = new float[9];
        float anomalous = model.ScoreFeatures(sample, terms);
        Assert.True(anomalous > 5 * normal, $"{anomalous} vs {normal}");
        Assert.Equal(5, Array.IndexOf(terms, terms.Max()));
    }

    [Fact]
    public void Batch_scores_are_the_single_sample_scores()
    {
        DigitsAe model = WeightFileTestKit.Randomized<DigitsAe>(11);
        Dataset digits = BundledData.Digits().Slice(0, 100);
        float[] scores = AnomalyScore.ScoreAll(model, digits);
        for (int i = 0; i < digits.Count; i++)
        {
            Assert.Equal(model.Score(digits[i]), scores[i]);
        }

        Assert.Throws<AnomalyException>(() => AnomalyScore.ScoreBatch(model, new float[65], new float[1]));
        Assert.Throws<AnomalyException>(() => AnomalyScore.ScoreAll(model, new Dataset(new float[10], 1, 10)));
    }

    [Fact]
    public void Scores_of_a_source_read_sample_by_sample_are_the_single_sample_scores()
    {
        // A source that is not a Dataset (a .f32 cache is one) is copied into model batches: 150 samples are two full
        // batches of 64 and a last one of 22.
        DigitsAe model = WeightFileTestKit.Randomized<DigitsAe>(13);
        Dataset digits = BundledData.Digits().Slice(0, 150);
        float[] scores = AnomalyScore.ScoreAll(model, new OneByOne(digits));
        Assert.Equal(150, scores.Length);
        for (int i = 0; i < digits.Count; i++)
        {
            Assert.Equal(model.Score(digits[i]), scores[i]);
        }

        Assert.Throws<AnomalyException>(() => AnomalyScore.ScoreAll(model, new OneByOne(new Dataset(new float[10], 1, 10))));
    }

    /// <summary>Only the sample-at-a-time interface of a data set.</summary>
    private sealed class OneByOne(Dataset data) : ISampleSource
    {
        public int Count => data.Count;

        public int Width => data.Width;

        public ReadOnlySpan<float> this[int index] => data[index];
    }

    [Fact]
    public void Scoring_windows_and_smoothers_allocate_nothing()
    {
        DigitsAe model = WeightFileTestKit.Randomized<DigitsAe>(12);
        float[] x = Input(model, new Random(1));
        var terms = new float[64];
        var frame = new float[8];
        var window = new SlidingWindow(8, 8);
        DecisionSmoother vote = DecisionSmoother.Vote(3, 5, 0.5f), ema = DecisionSmoother.Ema(0.2f, 0.5f);
        var scores = new float[4];
        var batch = new float[4 * 64];
        void Run()
        {
            model.Score(x);
            model.ScorePortable(x);
            model.ScoreFeatures(x, terms);
            AnomalyScore.ScoreBatch(model, batch, scores);
            for (int f = 0; f < 10; f++)
            {
                window.Push(frame);
            }

            vote.Add(model.Score(window.Current));
            ema.Add(0.3f);
        }

        Run();
        Allocations.AssertNoneOnThisThread(Run);
    }

    [Fact]
    public void Sliding_window_is_the_last_frames_oldest_first()
    {
        const int Frames = 5, Width = 3;
        var window = new SlidingWindow(Frames, Width);
        var all = new List<float[]>();
        for (int t = 0; t < 23; t++)
        {
            float[] frame = [t, t + 0.25f, t + 0.5f];
            all.Add(frame);
            window.Push(frame);
            Assert.Equal(t + 1 >= Frames, window.IsFull);
            if (window.IsFull)
            {
                float[] expected = all.Skip(all.Count - Frames).SelectMany(f => f).ToArray();
                Assert.Equal(expected, window.Current.ToArray());
            }
            else
            {
                Assert.Throws<InvalidOperationException>(() => window.Current.Length);
            }
        }
    }

    [Fact]
    public void Vote_and_ema_match_their_definitions()
    {
        var random = new Random(3);
        float[] scores = Enumerable.Range(0, 300).Select(_ => (float)random.NextDouble()).ToArray();
        const float Threshold = 0.7f;
        DecisionSmoother vote = DecisionSmoother.Vote(3, 5, Threshold);
        DecisionSmoother ema = DecisionSmoother.Ema(0.25f, Threshold);
        float average = 0;
        for (int i = 0; i < scores.Length; i++)
        {
            int above = scores.Skip(Math.Max(0, i - 4)).Take(Math.Min(5, i + 1)).Count(s => s > Threshold);
            Assert.Equal(above >= 3, vote.Add(scores[i]));
            average = i == 0 ? scores[0] : average + (0.25f * (scores[i] - average));
            Assert.Equal(average > Threshold, ema.Add(scores[i]));
        }

        Assert.Throws<ArgumentOutOfRangeException>(() => DecisionSmoother.Vote(6, 5, 1f));
        Assert.Throws<ArgumentOutOfRangeException>(() => DecisionSmoother.Ema(0f, 1f));
    }
}
