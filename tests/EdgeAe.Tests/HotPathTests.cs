using EdgeAe.Tests.Models;

namespace EdgeAe.Tests;

/// <summary>The generated hot paths allocate nothing and reject spans of the wrong length.</summary>
public sealed class HotPathTests
{
    [Fact]
    public void Encode_decode_reconstruct_and_train_step_allocate_nothing()
    {
        var model = new DeepBceAe();
        float[] input = TestModels.RandomInput(model, 1);
        var code = new float[DeepBceAe.CodeSize];
        var output = new float[DeepBceAe.InputSize];

        void RunAll()
        {
            for (int k = 0; k < 1000; k++)
            {
                model.Encode(input, code);
                model.Decode(code, output);
                model.Reconstruct(input, output);
                model.Evaluate(input, input);
                model.AccumulateGradients(input, input);
                model.TrainStep(input, 0.01f);
            }
        }

        RunAll(); // warm-up: tiering and static initialisation may allocate once
        Allocations.AssertNoneOnThisThread(RunAll);
    }

    public static TheoryData<string, int> WrongLengths => new()
    {
        { "Encode.input", 63 }, { "Encode.input", 65 }, { "Encode.code", 15 },
        { "Decode.code", 17 }, { "Decode.output", 0 },
        { "Reconstruct.input", 1 }, { "Reconstruct.output", 128 },
        { "Evaluate.target", 63 }, { "AccumulateGradients.input", 32 }, { "TrainStep.input", 65 },
        { "TrainStep.target", 60 },
    };

    [Theory]
    [MemberData(nameof(WrongLengths))]
    public void A_span_of_the_wrong_length_throws_naming_parameter_expected_and_actual(string call, int length)
    {
        var model = new DigitsAe();
        var ok64 = new float[64];
        var ok16 = new float[16];
        var bad = new float[length];
        string parameter = call.Split('.')[1];
        Action action = call switch
        {
            "Encode.input" => () => model.Encode(bad, ok16),
            "Encode.code" => () => model.Encode(ok64, bad),
            "Decode.code" => () => model.Decode(bad, ok64),
            "Decode.output" => () => model.Decode(ok16, bad),
            "Reconstruct.input" => () => model.Reconstruct(bad, ok64),
            "Reconstruct.output" => () => model.Reconstruct(ok64, bad),
            "Evaluate.target" => () => model.Evaluate(ok64, bad),
            "AccumulateGradients.input" => () => model.AccumulateGradients(bad, ok64),
            "TrainStep.input" => () => model.TrainStep(bad, 0.1f),
            "TrainStep.target" => () => model.TrainStep(ok64, bad, 0.1f),
            _ => throw new ArgumentOutOfRangeException(nameof(call)),
        };

        float[] before = model.Parameters.ToArray();
        var exception = Assert.Throws<ArgumentException>(action);
        Assert.Equal(parameter, exception.ParamName);
        int expected = parameter == "code" ? 16 : 64;
        Assert.Contains($"Expected {expected} floats", exception.Message);
        Assert.Contains($"found {length}", exception.Message);
        Assert.Equal(before, model.Parameters.ToArray());
    }

    [Theory]
    [InlineData(0f)]
    [InlineData(-0.1f)]
    [InlineData(float.NaN)]
    [InlineData(float.PositiveInfinity)]
    public void Train_step_rejects_a_learning_rate_that_is_not_positive_and_finite(float learningRate)
    {
        var model = new DigitsAe();
        var exception = Assert.Throws<ArgumentOutOfRangeException>(() => model.TrainStep(new float[64], learningRate));
        Assert.Equal("learningRate", exception.ParamName);
    }
}
