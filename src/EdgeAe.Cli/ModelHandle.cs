using System.Reflection;
using EdgeAe.IO;

namespace EdgeAe.Cli;

/// <summary>A model type the commands work with: the built-in <see cref="DigitsAe"/> or a compiled user declaration.</summary>
internal sealed class ModelHandle
{
    private const string DefaultDeclarationResource = "EdgeAe.Cli.DefaultModel.cs";

    private readonly Func<int, IAutoencoder> _create;

    public ModelHandle(string name, ModelTopology topology, Func<int, IAutoencoder> create, string origin, bool fromCache = false)
    {
        Name = name;
        Topology = topology;
        _create = create;
        Origin = origin;
        FromCache = fromCache;
    }

    /// <summary>The built-in 64→16→64 model, compiled into the tool by the generator at build time.</summary>
    public static ModelHandle BuiltIn { get; } = new("DigitsAe", DigitsAe.Topology, seed => new DigitsAe(seed), "built-in") { CreateInt8 = () => new DigitsAe.Int8() };

    /// <summary>The declaration of the built-in model (embedded, so that export shows what train trains).</summary>
    public static string BuiltInDeclaration
    {
        get
        {
            using Stream stream = Assembly.GetExecutingAssembly().GetManifestResourceStream(DefaultDeclarationResource)
                ?? throw new InvalidOperationException($"The resource {DefaultDeclarationResource} is missing from the tool.");
            using var reader = new StreamReader(stream);
            return reader.ReadToEnd();
        }
    }

    public string Name { get; }

    public ModelTopology Topology { get; }

    /// <summary>"built-in", or the declaration's path.</summary>
    public string Origin { get; }

    /// <summary>True when a compiled declaration came from the cache rather than the compiler.</summary>
    public bool FromCache { get; }

    /// <summary>A new instance with parameters initialised from <paramref name="seed"/>.</summary>
    public IAutoencoder Create(int seed) => _create(seed);

    /// <summary>A new instance of the model's int8 companion (<c>Model.Int8</c>), without parameters.</summary>
    public required Func<Quantization.QuantizedAutoencoder> CreateInt8 { get; init; }

    /// <summary>
    /// The model a weight file needs: the int8 companion for an int8 file, else the float model (parameters seeded, to
    /// be overwritten by the file).
    /// </summary>
    public IAutoencoder CreateFor(string weightsPath)
        => WeightFile.Read(weightsPath).IsInt8 ? CreateInt8() : Create(Topology.Seed);

    /// <summary>The built-in model, or the declaration at <paramref name="modelPath"/> compiled (or taken from the cache).</summary>
    public static ModelHandle Resolve(string? modelPath, CliEnvironment environment)
        => modelPath is null ? BuiltIn : ModelCompiler.Load(modelPath, environment);
}
