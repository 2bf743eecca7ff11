using System.Collections.Immutable;
using System.Reflection;
using System.Runtime.Loader;
using System.Security.Cryptography;
using System.Text;
using EdgeAe.Generators;
using EdgeAe.Generators.Model;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Text;

namespace EdgeAe.Cli;

/// <summary>What the generator made of a declaration file.</summary>
/// <param name="Compilation">The user file, global usings and generated sources.</param>
/// <param name="Specs">The validated topologies (one per [Autoencoder] class without errors).</param>
/// <param name="Errors">Generator and compiler errors as <c>file:line:column: error ID: message</c>.</param>
/// <param name="ModelTypes">Full names of the classes that carry [Autoencoder].</param>
internal sealed record GeneratorOutput(CSharpCompilation Compilation, ImmutableArray<TopologySpec> Specs, IReadOnlyList<string> Errors, IReadOnlyList<string> ModelTypes);

/// <summary>
/// Runs the EdgeAe generator in process on a user's declaration, compiles it with the generated
/// code against the framework and the EdgeAe runtime, caches the assembly by content hash and loads
/// it into a collectible context in which EdgeAe resolves to the tool's own runtime assembly.
/// </summary>
internal static class ModelCompiler
{
    private const string AutoencoderAttribute = "EdgeAe.AutoencoderAttribute";

    private static readonly CSharpParseOptions ParseOptions = CSharpParseOptions.Default.WithLanguageVersion(LanguageVersion.Latest);

    // Like the SDK's implicit usings, plus EdgeAe so a declaration may omit `using EdgeAe;`.
    private const string GlobalUsings = """
        global using System;
        global using System.Collections.Generic;
        global using System.Linq;
        global using EdgeAe;
        """;

    private static readonly Lazy<MetadataReference[]> References = new(() =>
    {
        // The shared framework (not the tool's own dependencies) plus the EdgeAe runtime.
        string framework = Path.GetDirectoryName(typeof(object).Assembly.Location)!;
        string[] trusted = ((string?)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES") ?? string.Empty).Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries);
        return trusted
            .Where(p => string.Equals(Path.GetDirectoryName(p), framework, StringComparison.Ordinal) && p.EndsWith(".dll", StringComparison.OrdinalIgnoreCase))
            .Append(typeof(IAutoencoder).Assembly.Location)
            .Distinct(StringComparer.Ordinal)
            .Select(p => (MetadataReference)MetadataReference.CreateFromFile(p))
            .ToArray();
    });

    /// <summary>Reads, hashes and compiles (or takes from the cache) the declaration at <paramref name="path"/>.</summary>
    public static ModelHandle Load(string path, CliEnvironment environment)
    {
        string source = ReadDeclaration(path);
        string fullPath = Path.GetFullPath(path);
        string hash = ContentHash(source);
        var cache = new ModelCache(environment.CacheDirectory ?? ModelCache.DefaultDirectory);
        if (cache.TryGet(hash, out byte[]? cached))
        {
            ModelHandle? fromCache = TryLoad(cached!, fullPath, fromCache: true, out string? problem);
            if (fromCache is not null)
            {
                return fromCache;
            }

            environment.Error.WriteLine($"edgeae: the cached build of {Path.GetFileName(path)} is unusable ({problem}); rebuilding it");
        }

        byte[] image = Compile(source, fullPath, hash);
        cache.Put(hash, image);
        return TryLoad(image, fullPath, fromCache: false, out string? error)
            ?? throw new CliException($"{path}: the compiled declaration cannot be loaded: {error}");
    }

    /// <summary>The declaration's text; a missing or unreadable file is a one-line error.</summary>
    public static string ReadDeclaration(string path)
    {
        if (!File.Exists(path))
        {
            throw new CliException($"model declaration not found: {path}");
        }

        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliException($"cannot read the model declaration {path}: {e.Message}", inner: e);
        }
    }

    /// <summary>SHA-256 of the source, the generator's version and the runtime's version (hex).</summary>
    public static string ContentHash(string source)
    {
        var text = new StringBuilder(source)
            .Append('\0').Append(VersionOf(typeof(AutoencoderGenerator).Assembly))
            .Append('\0').Append(VersionOf(typeof(IAutoencoder).Assembly));
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())));
    }

    /// <summary>Runs the generator on <paramref name="source"/> (named <paramref name="path"/> in diagnostics).</summary>
    public static GeneratorOutput Generate(string source, string path, string assemblyName = "EdgeAeDeclaration")
    {
        SyntaxTree tree = CSharpSyntaxTree.ParseText(SourceText.From(source, Encoding.UTF8), ParseOptions, path);
        SyntaxTree usings = CSharpSyntaxTree.ParseText(GlobalUsings, ParseOptions, "GlobalUsings.g.cs");
        var options = new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary,
            optimizationLevel: OptimizationLevel.Release, allowUnsafe: true, nullableContextOptions: NullableContextOptions.Enable, deterministic: true);
        CSharpCompilation compilation = CSharpCompilation.Create(assemblyName, [tree, usings], References.Value, options);
        GeneratorDriver driver = CSharpGeneratorDriver.Create(
            [new AutoencoderGenerator().AsSourceGenerator()],
            parseOptions: ParseOptions,
            driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: true));
        driver = driver.RunGeneratorsAndUpdateCompilation(compilation, out Compilation updated, out ImmutableArray<Diagnostic> generatorDiagnostics);
        GeneratorRunResult run = driver.GetRunResult().Results[0];
        ImmutableArray<TopologySpec> specs = run.TrackedSteps.TryGetValue(TrackingNames.Spec, out ImmutableArray<IncrementalGeneratorRunStep> steps)
            ? [.. steps.SelectMany(s => s.Outputs).Select(o => o.Value).OfType<TopologySpec>()]
            : [];
        var output = (CSharpCompilation)updated;
        IReadOnlyList<string> errors = generatorDiagnostics.Concat(run.Diagnostics).Concat(output.GetDiagnostics())
            .Where(d => d.Severity == DiagnosticSeverity.Error)
            .Distinct()
            .OrderBy(d => d.Location.GetLineSpan().StartLinePosition.Line)
            .Select(Format)
            .ToArray();
        return new GeneratorOutput(output, specs, errors, ModelTypesIn(output, tree));
    }

    /// <summary>One diagnostic as <c>file:line:column: error ID: message</c>.</summary>
    public static string Format(Diagnostic diagnostic)
    {
        FileLinePositionSpan span = diagnostic.Location.GetLineSpan();
        string where = span.IsValid
            ? $"{span.Path}:{span.StartLinePosition.Line + 1}:{span.StartLinePosition.Character + 1}: "
            : string.Empty;
        string severity = diagnostic.Severity.ToString().ToLowerInvariant();
        return $"{where}{severity} {diagnostic.Id}: {diagnostic.GetMessage(System.Globalization.CultureInfo.InvariantCulture)}";
    }

    /// <summary>Checks that the declaration compiles and holds exactly one [Autoencoder] class.</summary>
    public static void Check(GeneratorOutput output, string path)
    {
        if (output.Errors.Count > 0)
        {
            throw new CliException($"{path} does not compile ({output.Errors.Count} error{(output.Errors.Count == 1 ? "" : "s")}):", details: output.Errors);
        }

        if (output.ModelTypes.Count == 0)
        {
            throw new CliException($"{path} declares no [Autoencoder] class (see docs/declaration.md)");
        }

        if (output.ModelTypes.Count > 1)
        {
            throw new CliException($"{path} declares {output.ModelTypes.Count} [Autoencoder] classes ({string.Join(", ", output.ModelTypes)}); keep exactly one per file");
        }
    }

    private static byte[] Compile(string source, string path, string hash)
    {
        GeneratorOutput output = Generate(source, path, "EdgeAeDeclaration_" + hash[..16]);
        Check(output, path);
        using var image = new MemoryStream();
        Microsoft.CodeAnalysis.Emit.EmitResult result = output.Compilation.Emit(image);
        if (!result.Success)
        {
            string[] errors = result.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).Select(Format).ToArray();
            throw new CliException($"{path} does not compile ({errors.Length} errors):", details: errors);
        }

        return image.ToArray();
    }

    private static IReadOnlyList<string> ModelTypesIn(CSharpCompilation compilation, SyntaxTree userTree)
    {
        SyntaxTree tree = compilation.SyntaxTrees.First(t => t.FilePath == userTree.FilePath);
        SemanticModel model = compilation.GetSemanticModel(tree);
        return tree.GetRoot().DescendantNodes().OfType<ClassDeclarationSyntax>()
            .Select(c => model.GetDeclaredSymbol(c))
            .Where(s => s is not null && s.GetAttributes().Any(a => a.AttributeClass?.ToDisplayString() == AutoencoderAttribute))
            .Select(s => s!.ToDisplayString())
            .Distinct()
            .ToArray();
    }

    private static ModelHandle? TryLoad(byte[] image, string path, bool fromCache, out string? problem)
    {
        try
        {
            var context = new DeclarationLoadContext();
            Assembly assembly = context.LoadFromStream(new MemoryStream(image));
            // The float model classes; each generated model also holds its int8 companion (a nested Int8 class).
            Type[] models = assembly.GetTypes().Where(t => typeof(IAutoencoder).IsAssignableFrom(t) && !t.IsAbstract && !typeof(Quantization.IQuantizedAutoencoder).IsAssignableFrom(t)).ToArray();
            if (models.Length != 1)
            {
                problem = $"it holds {models.Length} model types";
                return null;
            }

            Type type = models[0];
            ConstructorInfo constructor = type.GetConstructor([typeof(int)])
                ?? throw new MissingMethodException($"{type} has no constructor taking a seed");
            var topology = (ModelTopology)(type.GetProperty("Topology", BindingFlags.Public | BindingFlags.Static)?.GetValue(null)
                ?? throw new MissingMemberException($"{type} has no static Topology"));
            problem = null;
            Type int8 = type.GetNestedType("Int8") ?? throw new MissingMemberException($"{type} has no Int8 companion");
            return new ModelHandle(type.Name, topology, seed => (IAutoencoder)constructor.Invoke([seed]), path, fromCache)
            {
                CreateInt8 = () => (Quantization.QuantizedAutoencoder)Activator.CreateInstance(int8)!,
            };
        }
        catch (Exception e) when (e is BadImageFormatException or FileLoadException or ReflectionTypeLoadException or MissingMemberException or TargetInvocationException or InvalidCastException)
        {
            problem = e.Message;
            return null;
        }
    }

    private static string VersionOf(Assembly assembly)
        => $"{assembly.GetName().Version}/{assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion}/{assembly.ManifestModule.ModuleVersionId}";

    /// <summary>
    /// Collectible; resolves nothing itself, so EdgeAe and the framework come from the default
    /// context and the model's type casts to the tool's <see cref="IAutoencoder"/>.
    /// </summary>
    private sealed class DeclarationLoadContext() : AssemblyLoadContext("edgeae-declaration", isCollectible: true)
    {
        protected override Assembly? Load(AssemblyName assemblyName) => null;
    }
}

/// <summary>
/// Compiled declarations by content hash: <c>$XDG_CACHE_HOME/edgeae/models</c>, else
/// <c>~/.cache/edgeae/models</c>. Entries are written atomically; an unusable entry is rebuilt.
/// </summary>
internal sealed class ModelCache(string directory)
{
    public static string DefaultDirectory
    {
        get
        {
            string? xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
            string root = !string.IsNullOrEmpty(xdg) && Path.IsPathRooted(xdg)
                ? xdg
                : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");
            return Path.Combine(root, "edgeae", "models");
        }
    }

    public string Directory { get; } = directory;

    public string PathOf(string hash) => Path.Combine(Directory, hash + ".dll");

    public bool TryGet(string hash, out byte[]? image)
    {
        try
        {
            image = File.Exists(PathOf(hash)) ? File.ReadAllBytes(PathOf(hash)) : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            image = null;
        }

        return image is not null;
    }

    /// <summary>Stores an entry; a cache that cannot be written only costs the next run a compile.</summary>
    public void Put(string hash, byte[] image)
    {
        string temporary = PathOf(hash) + "." + Guid.NewGuid().ToString("N") + ".tmp";
        try
        {
            System.IO.Directory.CreateDirectory(Directory);
            File.WriteAllBytes(temporary, image);
            File.Move(temporary, PathOf(hash), overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            try
            {
                File.Delete(temporary);
            }
            catch (Exception cleanup) when (cleanup is IOException or UnauthorizedAccessException)
            {
                // Nothing more to do: the cache is an optimisation.
            }
        }
    }
}
