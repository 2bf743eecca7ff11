using System.Reflection;

[assembly: AssemblyFixture(typeof(EdgeAe.Onnx.Tests.ModelsFixture))]

namespace EdgeAe.Onnx.Tests;

/// <summary>
/// The round-trip declarations (every case of <see cref="Matrix"/>) compiled once for the whole test run, as one
/// in-memory compilation.
/// </summary>
public sealed class ModelsFixture
{
    public ModelsFixture()
    {
        (string Path, string Source)[] sources = Matrix.Cases.Select(c => (c.Name + ".cs", c.Declaration())).ToArray();
        Assembly = System.Runtime.Loader.AssemblyLoadContext.Default.LoadFromStream(new MemoryStream(Compiled.Compile("EdgeAe.Onnx.RoundTrip", sources)));
    }

    public Assembly Assembly { get; }

    /// <summary>A new instance of the matrix model <paramref name="name"/> (namespace RoundTrip).</summary>
    public IAutoencoder Create(string name, int seed = 3)
    {
        Type type = Assembly.GetType("RoundTrip." + name, throwOnError: true)!;
        return (IAutoencoder)Activator.CreateInstance(type, seed)!;
    }
}
