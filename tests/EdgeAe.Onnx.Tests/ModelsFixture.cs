using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using EdgeAe.Generators;

[assembly: AssemblyFixture(typeof(EdgeAe.Onnx.Tests.ModelsFixture))]

namespace EdgeAe.Onnx.Tests;

/// <summary>
/// The round-trip declarations compiled once for the whole test run, as one in-memory compilation. The image is cached
/// next to the test executable, keyed by the SHA-256 of the generator, the runtime and the sources, so a second run of
/// an unchanged build loads it instead of compiling (about 20 s for the 8 covering models in Debug on this machine).
/// </summary>
public sealed class ModelsFixture
{
    private static readonly string CacheFolder = Path.Combine(AppContext.BaseDirectory, "onnx-model-cache");

    public ModelsFixture()
    {
        (string Path, string Source)[] sources = Matrix.Selected.Select(c => (c.Name + ".cs", c.Declaration())).ToArray();
        string key = Key(sources);
        string cached = Path.Combine(CacheFolder, key + ".dll");
        if (File.Exists(cached))
        {
            Assembly = System.Runtime.Loader.AssemblyLoadContext.Default.LoadFromStream(new MemoryStream(File.ReadAllBytes(cached)));
            return;
        }

        byte[] image = Compiled.Compile("EdgeAe.Onnx.RoundTrip_" + key[..12], sources);
        Directory.CreateDirectory(CacheFolder);
        foreach (string stale in Directory.GetFiles(CacheFolder, "*.dll"))
        {
            File.Delete(stale);
        }

        string temporary = cached + "." + Guid.NewGuid().ToString("N") + ".tmp";
        File.WriteAllBytes(temporary, image);
        File.Move(temporary, cached, overwrite: true);
        Assembly = System.Runtime.Loader.AssemblyLoadContext.Default.LoadFromStream(new MemoryStream(image));
    }

    public Assembly Assembly { get; }

    /// <summary>A new instance of the matrix model <paramref name="name"/> (namespace RoundTrip).</summary>
    public IAutoencoder Create(string name, int seed = 3)
    {
        Type type = Assembly.GetType("RoundTrip." + name, throwOnError: true)!;
        return (IAutoencoder)Activator.CreateInstance(type, seed)!;
    }

    private static string Key((string Path, string Source)[] sources)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(File.ReadAllBytes(typeof(AutoencoderGenerator).Assembly.Location));
        hash.AppendData(File.ReadAllBytes(typeof(IAutoencoder).Assembly.Location));
        foreach ((string path, string source) in sources)
        {
            hash.AppendData(Encoding.UTF8.GetBytes(path + "\0" + source + "\0"));
        }

        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }
}
