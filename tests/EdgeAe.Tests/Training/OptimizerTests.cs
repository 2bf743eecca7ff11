using EdgeAe.Training;

namespace EdgeAe.Tests.Training;

/// <summary>The optimizers against double-precision references written from PyTorch's update rules.</summary>
public sealed class OptimizerTests
{
    private const int Count = 37;
    private const int Steps = 5;

    /// <summary>Learning rates per step, varied so each step's rate is really used.</summary>
    private static readonly float[] Rates = [0.1f, 0.05f, 0.2f, 0.01f, 0.1f];

    [Theory]
    [InlineData(0f)]
    [InlineData(0.01f)]
    public void Sgd_matches_the_reference(float weightDecay)
    {
        (float[] parameters, float[][] gradients) = Problem(1);
        double[] expected = ToDouble(parameters);
        for (int t = 0; t < Steps; t++)
        {
            for (int i = 0; i < Count; i++)
            {
                double g = gradients[t][i] + weightDecay * expected[i];
                expected[i] -= Rates[t] * g;
            }
        }

        Run(new Sgd(Count, weightDecay), parameters, gradients);
        AssertClose(expected, parameters);
    }

    [Theory]
    [InlineData(0.9f, false, 0f)]
    [InlineData(0.9f, true, 0f)]
    [InlineData(0.5f, false, 0.05f)]
    [InlineData(0.5f, true, 0.05f)]
    public void Momentum_matches_the_reference(float mu, bool nesterov, float weightDecay)
    {
        (float[] parameters, float[][] gradients) = Problem(2);
        double[] expected = ToDouble(parameters);
        var buffer = new double[Count];
        for (int t = 0; t < Steps; t++)
        {
            for (int i = 0; i < Count; i++)
            {
                double g = gradients[t][i] + weightDecay * expected[i];
                buffer[i] = t == 0 ? g : mu * buffer[i] + g;
                double direction = nesterov ? g + mu * buffer[i] : buffer[i];
                expected[i] -= Rates[t] * direction;
            }
        }

        Run(new Momentum(Count, mu, nesterov, weightDecay), parameters, gradients);
        AssertClose(expected, parameters);
    }

    [Theory]
    [InlineData(0.9f, 0.999f, 1e-8f, 0f)]
    [InlineData(0.8f, 0.99f, 1e-3f, 0f)]
    [InlineData(0.9f, 0.999f, 1e-8f, 0.1f)]
    public void Adam_matches_the_reference_with_bias_correction_at_every_step(float beta1, float beta2, float epsilon, float weightDecay)
    {
        (float[] parameters, float[][] gradients) = Problem(3);
        double[] expected = ToDouble(parameters);
        var m = new double[Count];
        var v = new double[Count];
        var optimizer = new Adam(Count, beta1, beta2, epsilon, weightDecay);
        for (int t = 0; t < Steps; t++)
        {
            int step = t + 1;
            for (int i = 0; i < Count; i++)
            {
                double g = gradients[t][i] + weightDecay * expected[i];
                m[i] = beta1 * m[i] + (1 - beta1) * g;
                v[i] = beta2 * v[i] + (1 - beta2) * g * g;
                double mHat = m[i] / (1 - Math.Pow(beta1, step));
                double vHat = v[i] / (1 - Math.Pow(beta2, step));
                expected[i] -= Rates[t] * mHat / (Math.Sqrt(vHat) + epsilon);
            }

            // Compared after every step: bias correction matters most in the first ones.
            optimizer.Step(parameters, gradients[t], Rates[t]);
            Assert.Equal(step, optimizer.StepCount);
            AssertClose(expected, parameters);
        }
    }

    [Fact]
    public void Adam_first_step_moves_each_parameter_by_about_the_learning_rate()
    {
        // With bias correction, m̂ = g and √v̂ = |g| at step 1: the update is lr·sign(g).
        var parameters = new float[] { 1, 1, 1 };
        new Adam(3).Step(parameters, [0.001f, -5f, 300f], 0.01f);
        Assert.Equal([0.99f, 1.01f, 0.99f], parameters, (a, b) => Math.Abs(a - b) < 1e-6f);
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void The_checked_slice_update_saves_the_old_parameters_and_steps_exactly_as_Step(OptimizerKind kind)
    {
        // The data-parallel trainer's update: the last good parameters copied and the result checked in the same pass
        // (Adam's kernel), bit for bit the plain step over several steps (so the moments match too), over a length with
        // whole vectors of every width and a scalar tail.
        (float[] parameters, float[][] gradients) = Problem(6);
        float[] sliced = (float[])parameters.Clone();
        var options = new OptimizerOptions { Kind = kind, WeightDecay = 0.01f };
        Optimizer plain = Optimizer.Create(options, Count), checkedSlices = Optimizer.Create(options, Count);
        var saved = new float[Count];
        for (int t = 0; t < Steps; t++)
        {
            float[] before = (float[])sliced.Clone();
            plain.Step(parameters, gradients[t], Rates[t]);
            int step = checkedSlices.BeginSlicedStep(Rates[t]);
            Assert.True(checkedSlices.UpdateSliceChecked(sliced, gradients[t], Rates[t], step, 0, saved));
            Assert.Equal(before, saved);
            Assert.Equal(parameters, sliced);
        }
    }

    [Theory]
    [InlineData(OptimizerKind.Adam, float.NaN, 0)]
    [InlineData(OptimizerKind.Adam, float.PositiveInfinity, 31)]
    [InlineData(OptimizerKind.Adam, float.NegativeInfinity, 36)]
    [InlineData(OptimizerKind.Sgd, float.PositiveInfinity, 17)]
    [InlineData(OptimizerKind.Momentum, float.NaN, 36)]
    public void The_checked_slice_update_reports_a_parameter_that_became_non_finite(OptimizerKind kind, float gradient, int index)
    {
        (float[] parameters, float[][] gradients) = Problem(7);
        float[] g = (float[])gradients[0].Clone();
        g[index] = gradient;
        Optimizer optimizer = Optimizer.Create(new OptimizerOptions { Kind = kind }, Count);
        int step = optimizer.BeginSlicedStep(0.1f);
        Assert.False(optimizer.UpdateSliceChecked(parameters, g, 0.1f, step, 0, default));
        Assert.False(float.IsFinite(parameters[index]));
        Assert.Equal(index, DataParallelStep.FirstNonFinite(parameters, 0));
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Zero_padding_stays_zero_and_gradients_are_not_modified(OptimizerKind kind)
    {
        (float[] parameters, float[][] gradients) = Problem(4);
        float[][] copies = gradients.Select(g => g.ToArray()).ToArray();
        Optimizer optimizer = Optimizer.Create(new OptimizerOptions { Kind = kind, WeightDecay = 0.1f }, Count);
        Run(optimizer, parameters, gradients);
        for (int t = 0; t < Steps; t++)
        {
            Assert.Equal(copies[t], gradients[t]);
        }

        // Problem puts padding (parameter and gradient 0) in the last three slots.
        Assert.All(parameters[^3..], p => Assert.Equal(0f, p));
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Reset_clears_the_state_and_the_step_count(OptimizerKind kind)
    {
        (float[] start, float[][] gradients) = Problem(5);
        Optimizer optimizer = Optimizer.Create(new OptimizerOptions { Kind = kind }, Count);
        float[] first = start.ToArray();
        Run(optimizer, first, gradients);
        Assert.Equal(Steps, optimizer.StepCount);

        optimizer.Reset();
        Assert.Equal(0, optimizer.StepCount);
        float[] second = start.ToArray();
        Run(optimizer, second, gradients);
        Assert.Equal(first, second);
    }

    [Theory]
    [InlineData(0f)]
    [InlineData(-0.1f)]
    [InlineData(float.NaN)]
    [InlineData(float.PositiveInfinity)]
    [InlineData(float.NegativeInfinity)]
    public void Step_rejects_bad_learning_rates(float learningRate)
    {
        foreach (OptimizerKind kind in Enum.GetValues<OptimizerKind>())
        {
            Optimizer optimizer = Optimizer.Create(new OptimizerOptions { Kind = kind }, 4);
            var exception = Assert.Throws<ArgumentOutOfRangeException>(() => optimizer.Step(new float[4], new float[4], learningRate));
            Assert.Equal("learningRate", exception.ParamName);
            Assert.Equal(learningRate, exception.ActualValue);
            Assert.Contains(learningRate.ToString(), exception.Message);
            Assert.Equal(0, optimizer.StepCount);
        }
    }

    [Fact]
    public void Step_rejects_wrong_lengths_naming_the_span_and_both_lengths()
    {
        var optimizer = new Adam(4);
        var parameters = Assert.Throws<ArgumentException>(() => optimizer.Step(new float[3], new float[4], 0.1f));
        Assert.Equal("parameters", parameters.ParamName);
        Assert.Contains("Expected 4", parameters.Message);
        Assert.Contains("found 3", parameters.Message);

        var gradients = Assert.Throws<ArgumentException>(() => optimizer.Step(new float[4], new float[5], 0.1f));
        Assert.Equal("gradients", gradients.ParamName);
        Assert.Contains("Expected 4", gradients.Message);
        Assert.Contains("found 5", gradients.Message);
        Assert.Equal(0, optimizer.StepCount);
    }

    public static TheoryData<string, float> BadHyperParameters => new()
    {
        { "beta1", 1f }, { "beta1", -0.1f }, { "beta1", float.NaN },
        { "beta2", 1f }, { "beta2", -0.1f }, { "beta2", float.NaN },
        { "epsilon", 0f }, { "epsilon", -1e-8f }, { "epsilon", float.NaN }, { "epsilon", float.PositiveInfinity },
        { "momentum", 1f }, { "momentum", -0.5f }, { "momentum", float.NaN },
        { "nesterov", 0f },
        { "weightDecay", -0.1f }, { "weightDecay", float.NaN }, { "weightDecay", float.PositiveInfinity },
    };

    [Theory]
    [MemberData(nameof(BadHyperParameters))]
    public void Construction_rejects_bad_hyper_parameters(string name, float value)
    {
        Func<Optimizer> create = name switch
        {
            "beta1" => () => new Adam(4, beta1: value),
            "beta2" => () => new Adam(4, beta2: value),
            "epsilon" => () => new Adam(4, epsilon: value),
            "momentum" => () => new Momentum(4, value),
            "nesterov" => () => new Momentum(4, value, nesterov: true),
            _ => () => new Sgd(4, value),
        };
        var exception = Assert.Throws<ArgumentOutOfRangeException>(() => create());
        Assert.Equal(name == "nesterov" ? "momentum" : name, exception.ParamName);
        Assert.Equal(value, exception.ActualValue);
    }

    [Fact]
    public void Create_builds_the_requested_kind_with_the_options()
    {
        Assert.IsType<Sgd>(Optimizer.Create(new OptimizerOptions { Kind = OptimizerKind.Sgd }, 3));
        var momentum = Assert.IsType<Momentum>(Optimizer.Create(new OptimizerOptions { Kind = OptimizerKind.Momentum, Momentum = 0.7f }, 3));
        Assert.False(momentum.Nesterov);
        Assert.Equal(0.7f, momentum.MomentumFactor);
        Assert.True(Assert.IsType<Momentum>(Optimizer.Create(new OptimizerOptions { Kind = OptimizerKind.Nesterov }, 3)).Nesterov);
        var adam = Assert.IsType<Adam>(Optimizer.Create(new OptimizerOptions { Beta1 = 0.5f, Beta2 = 0.75f, Epsilon = 1e-4f, WeightDecay = 0.01f }, 3));
        Assert.Equal((0.5f, 0.75f, 1e-4f, 0.01f, 3), (adam.Beta1, adam.Beta2, adam.Epsilon, adam.WeightDecay, adam.ParameterCount));
    }

    [Theory]
    [InlineData("sgd", OptimizerKind.Sgd)]
    [InlineData("momentum", OptimizerKind.Momentum)]
    [InlineData("nesterov", OptimizerKind.Nesterov)]
    [InlineData("adam", OptimizerKind.Adam)]
    [InlineData(" ADAM ", OptimizerKind.Adam)]
    public void ParseKind_accepts_the_cli_names(string name, OptimizerKind kind)
    {
        Assert.Equal(kind, OptimizerOptions.ParseKind(name));
        Assert.Equal(name.Trim().ToLowerInvariant(), OptimizerOptions.KindName(kind));
    }

    [Theory]
    [InlineData("adamw")]
    [InlineData("")]
    public void ParseKind_rejects_unknown_names_listing_the_valid_ones(string name)
    {
        var exception = Assert.Throws<ArgumentException>(() => OptimizerOptions.ParseKind(name));
        Assert.Contains($"'{name}'", exception.Message);
        Assert.Contains("sgd, momentum, nesterov, adam", exception.Message);
    }

    public static TheoryData<OptimizerKind> Kinds => new(Enum.GetValues<OptimizerKind>());

    private static void Run(Optimizer optimizer, float[] parameters, float[][] gradients)
    {
        for (int t = 0; t < Steps; t++)
        {
            optimizer.Step(parameters, gradients[t], Rates[t]);
        }
    }

    /// <summary>Parameters and per-step gradients; the last three slots are zero padding.</summary>
    private static (float[] Parameters, float[][] Gradients) Problem(ulong seed)
    {
        var rng = new SplitMix64(seed);
        var parameters = new float[Count];
        for (int i = 0; i < Count - 3; i++)
        {
            parameters[i] = 2 * rng.NextSingle() - 1;
        }

        var gradients = new float[Steps][];
        for (int t = 0; t < Steps; t++)
        {
            gradients[t] = new float[Count];
            for (int i = 0; i < Count - 3; i++)
            {
                gradients[t][i] = 2 * rng.NextSingle() - 1;
            }
        }

        return (parameters, gradients);
    }

    private static double[] ToDouble(float[] values) => values.Select(x => (double)x).ToArray();

    private static void AssertClose(double[] expected, float[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            double tolerance = 1e-6 + 1e-5 * Math.Abs(expected[i]);
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tolerance, $"[{i}] expected {expected[i]:R} but found {actual[i]:R}");
        }
    }
}
