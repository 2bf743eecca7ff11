using EdgeAe.Tests.Models;

namespace EdgeAe.Tests;

/// <summary>The declared test models by name, for theories.</summary>
internal static class TestModels
{
    public static readonly IReadOnlyDictionary<string, Func<IAutoencoder>> All = new Dictionary<string, Func<IAutoencoder>>
    {
        [nameof(DigitsAe)] = () => new DigitsAe(),
        [nameof(OverCompleteAe)] = () => new OverCompleteAe(),
        [nameof(DeepBceAe)] = () => new DeepBceAe(),
        [nameof(DeepSquaredErrorAe)] = () => new DeepSquaredErrorAe(),
        [nameof(BceLinearCode)] = () => new BceLinearCode(),
        [nameof(BceSigmoidCode)] = () => new BceSigmoidCode(),
        [nameof(BceTanhCode)] = () => new BceTanhCode(),
        [nameof(BceReluCode)] = () => new BceReluCode(),
        [nameof(SquaredErrorLinearOutput)] = () => new SquaredErrorLinearOutput(),
        [nameof(SquaredErrorSigmoidOutput)] = () => new SquaredErrorSigmoidOutput(),
        [nameof(SquaredErrorTanhOutput)] = () => new SquaredErrorTanhOutput(),
        [nameof(SquaredErrorReluOutput)] = () => new SquaredErrorReluOutput(),
        [nameof(TiedDeepAe)] = () => new TiedDeepAe(),
        [nameof(TiedSquaredErrorAe)] = () => new TiedSquaredErrorAe(),
        [nameof(FanInTiedAe)] = () => new FanInTiedAe(),
        [nameof(TailsAe)] = () => new TailsAe(),
        [nameof(WideAe)] = () => new WideAe(),
        [nameof(TiedTailsAe)] = () => new TiedTailsAe(),
    };

    /// <summary>Each model's generated int8 companion (<c>Model.Int8</c>), by the model's name.</summary>
    public static readonly IReadOnlyDictionary<string, Func<EdgeAe.Quantization.QuantizedAutoencoder>> Int8 = new Dictionary<string, Func<EdgeAe.Quantization.QuantizedAutoencoder>>
    {
        [nameof(DigitsAe)] = () => new DigitsAe.Int8(),
        [nameof(OverCompleteAe)] = () => new OverCompleteAe.Int8(),
        [nameof(DeepBceAe)] = () => new DeepBceAe.Int8(),
        [nameof(DeepSquaredErrorAe)] = () => new DeepSquaredErrorAe.Int8(),
        [nameof(BceLinearCode)] = () => new BceLinearCode.Int8(),
        [nameof(BceSigmoidCode)] = () => new BceSigmoidCode.Int8(),
        [nameof(BceTanhCode)] = () => new BceTanhCode.Int8(),
        [nameof(BceReluCode)] = () => new BceReluCode.Int8(),
        [nameof(SquaredErrorLinearOutput)] = () => new SquaredErrorLinearOutput.Int8(),
        [nameof(SquaredErrorSigmoidOutput)] = () => new SquaredErrorSigmoidOutput.Int8(),
        [nameof(SquaredErrorTanhOutput)] = () => new SquaredErrorTanhOutput.Int8(),
        [nameof(SquaredErrorReluOutput)] = () => new SquaredErrorReluOutput.Int8(),
        [nameof(TiedDeepAe)] = () => new TiedDeepAe.Int8(),
        [nameof(TiedSquaredErrorAe)] = () => new TiedSquaredErrorAe.Int8(),
        [nameof(FanInTiedAe)] = () => new FanInTiedAe.Int8(),
        [nameof(TailsAe)] = () => new TailsAe.Int8(),
        [nameof(WideAe)] = () => new WideAe.Int8(),
        [nameof(TiedTailsAe)] = () => new TiedTailsAe.Int8(),
    };

    /// <summary>Small models whose every parameter can be finite-differenced quickly.</summary>
    public static TheoryData<string> Small => new(All.Keys.Where(k => k is not nameof(DigitsAe) and not nameof(OverCompleteAe) and not nameof(WideAe)));

    public static TheoryData<string> Names => new(All.Keys);

    public static IAutoencoder Create(string name) => All[name]();

    /// <summary>A seeded input suited to the model's loss: in [0, 1] for BCE, roughly standard normal otherwise.</summary>
    public static float[] RandomInput(IAutoencoder model, int seed)
    {
        var random = new Random(seed);
        var input = new float[model.Topology.InputSize];
        for (int i = 0; i < input.Length; i++)
        {
            input[i] = model.Topology.Loss == LossKind.BinaryCrossEntropy
                ? (float)random.NextDouble()
                : (float)(random.NextDouble() * 2 - 1) * 1.5f;
        }

        return input;
    }

    /// <summary>Spreads the biases a little so every unit of every layer has a distinct, non-trivial gradient.</summary>
    public static void PerturbBiases(IAutoencoder model, int seed)
    {
        var random = new Random(seed);
        Span<float> p = model.Parameters;
        foreach (LayerInfo layer in model.Topology.Layers)
        {
            for (int j = 0; j < layer.Width; j++)
            {
                p[layer.BiasOffset + j] = (float)(random.NextDouble() - 0.5) * 0.4f;
            }
        }
    }
}
