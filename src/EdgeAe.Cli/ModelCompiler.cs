using System.Collections.Immutable;
using System.Diagnostics;
using System.Reflection;
using System.Runtime.Loader;
using System.Security.Cryptography;
using System.Text;
using EdgeAe.Generators;
using EdgeAe.Generators.Baking;
using EdgeAe.Generators.Model;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Text;

namespace EdgeAe.Cli;

/// <summary>What the generator made of a declaration file.</summary>
/// <param name="Compilation">The user file, global usings and generated sources.</param>
/// <param name="Specs">The validated topologies (one per [Autoencoder] class without errors).</param>
/// <param name="Errors">Generator and compiler errors as <c>file:line:column: error ID: message</c>.</param>
/// <param name="ModelTypes">Full names of the classes that carry [Autoencoder].</param>
internal sealed record GeneratorOutput(CSharpCompilation Compilation, ImmutableArray<TopologySpec> Specs, IReadOnlyList<string> Errors, IReadOnlyList<string> ModelTypes)
{
    /// <summary>The weights a declaration bakes (<c>Weights = "…"</c>), by the model's full name.</summary>
    public IReadOnlyDictionary<string, BakedWeights> Baked { get; init; } = new Dictionary<string, BakedWeights>();
}

/// <summary>
/// Runs the EdgeAe generator in process on a user's declaration, compiles it with the generated
/// code against the framework and the EdgeAe runtime, caches the assembly by content hash and loads
/// it into a collectible context in which EdgeAe resolves to the tool's own runtime assembly.
/// </summary>
/// <remarks>
/// The declaration's own code (static constructors, module initialisers, field initialisers) runs in this process
/// when the model is loaded, as with <c>dotnet run</c>: compile only declarations you trust (docs/cli.md). An
/// exception it throws is reported with its own type and message.
/// </remarks>
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
        var timings = new CompileTimings();
        string source = ReadDeclaration(path);
        string fullPath = Path.GetFullPath(path);
        IReadOnlyList<WeightsText> weights = WeightsBeside(source, fullPath);
        string hash = ContentHash(source, weights);
        var cache = new ModelCache(environment.CacheDirectory ?? ModelCache.DefaultDirectory);
        if (cache.TryGet(hash, out byte[]? cached, out string? entryProblem))
        {
            ModelHandle? fromCache = TryLoad(cached!, fullPath, fromCache: true, out string? problem);
            if (fromCache is not null)
            {
                return fromCache;
            }

            entryProblem = problem;
        }

        if (entryProblem is not null)
        {
            environment.Error.WriteLine($"edgeae: the cached build of {Path.GetFileName(path)} is unusable ({entryProblem}); rebuilding it");
        }

        byte[] image = Compile(source, fullPath, hash, weights, timings);
        cache.Put(hash, image);
        long start = Stopwatch.GetTimestamp();
        ModelHandle handle = TryLoad(image, fullPath, fromCache: false, out string? error)
            ?? throw new CliException($"{path}: the compiled declaration cannot be loaded: {error}");
        timings.Load = Stopwatch.GetElapsedTime(start);
        if (environment.Verbose)
        {
            environment.Line(timings.ToString());
        }

        return handle;
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

    /// <summary>SHA-256 of the source, the weight files it bakes, the generator's version and the runtime's version (hex).</summary>
    public static string ContentHash(string source, IReadOnlyList<WeightsText>? weights = null)
    {
        var text = new StringBuilder(source)
            .Append('\0').Append(VersionOf(typeof(AutoencoderGenerator).Assembly))
            .Append('\0').Append(VersionOf(typeof(IAutoencoder).Assembly));
        foreach (WeightsText file in weights ?? [])
        {
            text.Append('\0').Append(file.Path).Append('\0').Append(Convert.ToHexStringLower(SHA256.HashData(file.Bytes)));
        }

        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())));
    }

    /// <summary>
    /// Runs the generator on <paramref name="source"/> (named <paramref name="path"/> in diagnostics). With
    /// <paramref name="bindBodies"/>, errors include the compiler's method-body errors (export); the build path leaves
    /// those to <see cref="Compile"/>'s emit, which binds every body anyway — doing it twice cost a third of the time.
    /// <paramref name="flavor"/> is the project's <c>EdgeAeTarget</c> (export --target): a firmware declaration may bake
    /// what only the firmware flavour accepts (an int8 weight file), which the desktop flavour reports as an error.
    /// <paramref name="weightsGiven"/>: the caller bakes a weight file of its own (export --weights) in place of the one the
    /// declaration names, so that file is neither looked for nor checked here (the caller checks its own).
    /// </summary>
    public static GeneratorOutput Generate(
        string source, string path, string assemblyName = "EdgeAeDeclaration", IReadOnlyList<WeightsText>? weights = null, bool bindBodies = true,
        TargetFlavor flavor = TargetFlavor.Desktop, bool weightsGiven = false)
    {
        SyntaxTree tree = CSharpSyntaxTree.ParseText(SourceText.From(source, Encoding.UTF8), ParseOptions, path);
        SyntaxTree usings = CSharpSyntaxTree.ParseText(GlobalUsings, ParseOptions, "GlobalUsings.g.cs");
        var options = new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary,
            optimizationLevel: OptimizationLevel.Release, allowUnsafe: true, nullableContextOptions: NullableContextOptions.Enable, deterministic: true);
        CSharpCompilation compilation = CSharpCompilation.Create(assemblyName, [tree, usings], References.Value, options);
        GeneratorDriver driver = CSharpGeneratorDriver.Create(
            [new AutoencoderGenerator().AsSourceGenerator()],
            additionalTexts: weightsGiven ? [] : [.. weights ?? WeightsBeside(source, path)],
            parseOptions: ParseOptions,
            optionsProvider: new TargetOptions(flavor),
            driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: true));
        driver = driver.RunGeneratorsAndUpdateCompilation(compilation, out Compilation updated, out ImmutableArray<Diagnostic> generatorDiagnostics);
        GeneratorRunResult run = driver.GetRunResult().Results[0];
        // The flavour checks' results hold every valid topology (models that bake weights included); the bake step the weights.
        ImmutableArray<TopologySpec> specs = [.. Outputs<ParsedDeclaration>(run, TrackingNames.FlavorChecks).Select(p => p.Result.Value).OfType<TopologySpec>()];
        Dictionary<string, BakedWeights> baked = Outputs<BakeResult>(run, TrackingNames.Bake)
            .Where(b => b.Weights is not null)
            .ToDictionary(b => b.Spec.FullName, b => b.Weights!, StringComparer.Ordinal);
        var output = (CSharpCompilation)updated;
        IEnumerable<Diagnostic> compiler = bindBodies ? output.GetDiagnostics() : output.GetDeclarationDiagnostics();
        IEnumerable<Diagnostic> diagnostics = generatorDiagnostics.Concat(run.Diagnostics).Concat(compiler);
        IReadOnlyList<string> errors = Errors(weightsGiven ? diagnostics.Where(d => !BakingIds.Contains(d.Id)) : diagnostics, path);
        return new GeneratorOutput(output, specs, errors, ModelTypesIn(output, tree)) { Baked = baked };
    }

    /// <summary>The diagnostics about the weight file a declaration bakes (EAE0017–EAE0020, EAE0024–EAE0026).</summary>
    private static readonly HashSet<string> BakingIds =
    [
        DiagnosticDescriptors.WeightFileNotFound.Id, DiagnosticDescriptors.WeightFileUnreadable.Id,
        DiagnosticDescriptors.WeightFileTopologyMismatch.Id, DiagnosticDescriptors.WeightFileAmbiguous.Id,
        DiagnosticDescriptors.CodeBitsDifferFromWeightFile.Id, DiagnosticDescriptors.CodeRangeMissing.Id,
        DiagnosticDescriptors.Int8WeightsUnsupported.Id,
    ];

    private static IEnumerable<T> Outputs<T>(GeneratorRunResult run, string step)
        => run.TrackedSteps.TryGetValue(step, out ImmutableArray<IncrementalGeneratorRunStep> steps)
            ? steps.SelectMany(s => s.Outputs).Select(o => o.Value).OfType<T>()
            : [];

    /// <summary>One diagnostic as <c>file:line:column: error ID: message</c>.</summary>
    public static string Format(Diagnostic diagnostic, string? declaration = null)
    {
        FileLinePositionSpan span = diagnostic.Location.GetLineSpan();
        string where = span.IsValid
            ? $"{span.Path}:{span.StartLinePosition.Line + 1}:{span.StartLinePosition.Character + 1}: "
            : string.Empty;
        string severity = diagnostic.Severity.ToString().ToLowerInvariant();
        string message = diagnostic.GetMessage(System.Globalization.CultureInfo.InvariantCulture);
        if (diagnostic.Id == "EAE0017" && diagnostic.GetMessage(System.Globalization.CultureInfo.InvariantCulture).Split('"') is [_, string name, ..])
        {
            // The generator's fix names a project file; the command line looks beside the declaration instead.
            string folder = declaration is null ? "the declaration" : Path.GetDirectoryName(Path.GetFullPath(declaration)) ?? ".";
            message = $"[Autoencoder] Weights = \"{name}\": no file '{name}' in {folder}; the command line bakes the weight file it finds beside the declaration (or remove Weights = … to start from initial parameters)";
        }

        return $"{where}{severity} {diagnostic.Id}: {message}";
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

    /// <summary>
    /// The weight files a declaration bakes (<c>Weights = "name.eaw"</c>), found beside it: the command line's
    /// equivalent of the project's AdditionalFiles items.
    /// </summary>
    internal static IReadOnlyList<WeightsText> WeightsBeside(string source, string path)
        => [.. BakedWeightFiles(source, Path.GetFullPath(path)).Select(f => new WeightsText(f.File, File.ReadAllBytes(f.File)))];

    /// <summary>
    /// The weight files a declaration at <paramref name="path"/> names in <c>Weights = "…"</c> that exist beside it, each
    /// once, in order: the name as written and the file's path (as relative or full as <paramref name="path"/>).
    /// </summary>
    internal static IEnumerable<(string Name, string File)> BakedWeightFiles(string source, string path)
    {
        string folder = Path.GetDirectoryName(path) ?? string.Empty;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        SyntaxNode root = CSharpSyntaxTree.ParseText(source, ParseOptions).GetRoot();
        foreach (AttributeArgumentSyntax argument in root.DescendantNodes().OfType<AttributeArgumentSyntax>())
        {
            if (argument.NameEquals?.Name.Identifier.Text == "Weights" && argument.Expression is LiteralExpressionSyntax { Token.Value: string name })
            {
                string file = Path.Combine(folder, name);
                if (File.Exists(file) && seen.Add(file))
                {
                    yield return (name, file);
                }
            }
        }
    }

    private static IReadOnlyList<string> Errors(IEnumerable<Diagnostic> diagnostics, string path)
        => diagnostics
            .Where(d => d.Severity == DiagnosticSeverity.Error)
            .Distinct()
            .OrderBy(d => d.Location.GetLineSpan().StartLinePosition.Line)
            .Select(d => Format(d, path))
            .ToArray();

    private static byte[] Compile(string source, string path, string hash, IReadOnlyList<WeightsText> weights, CompileTimings timings)
    {
        long start = Stopwatch.GetTimestamp();
        GeneratorOutput output = Generate(source, path, "EdgeAeDeclaration_" + hash[..16], weights, bindBodies: false);
        timings.Generate = Stopwatch.GetElapsedTime(start);
        timings.GeneratedLines = output.Compilation.SyntaxTrees.Sum(t => t.GetText().Lines.Count);
        if (output.Errors.Count > 0)
        {
            // Failing anyway: list every error at once, method bodies included.
            output = Generate(source, path, "EdgeAeDeclaration_" + hash[..16], weights, bindBodies: true);
        }

        Check(output, path);
        start = Stopwatch.GetTimestamp();
        using var image = new MemoryStream();
        Microsoft.CodeAnalysis.Emit.EmitResult result = output.Compilation.Emit(image);
        timings.Emit = Stopwatch.GetElapsedTime(start);
        if (!result.Success)
        {
            IReadOnlyList<string> errors = Errors(result.Diagnostics, path);
            throw new CliException($"{path} does not compile ({errors.Count} error{(errors.Count == 1 ? "" : "s")}):", details: errors);
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

    /// <summary>
    /// Loads a compiled declaration; null with <paramref name="problem"/> when the image is not a usable model assembly.
    /// An exception thrown by the declaration's own code (a static constructor, a field initialiser) is not a problem
    /// of the image: it is reported at once with its own type and message.
    /// </summary>
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
            var topology = (ModelTopology)UserCode(path, type.Name, () => type.GetProperty("Topology", BindingFlags.Public | BindingFlags.Static)?.GetValue(null)
                ?? throw new MissingMemberException($"{type} has no static Topology"));
            problem = null;
            Type int8 = type.GetNestedType("Int8") ?? throw new MissingMemberException($"{type} has no Int8 companion");
            return new ModelHandle(type.Name, topology, seed => (IAutoencoder)UserCode(path, type.Name, () => constructor.Invoke([seed])), path, fromCache)
            {
                CreateInt8 = () => (Quantization.QuantizedAutoencoder)UserCode(path, type.Name, () => Activator.CreateInstance(int8)!),
            };
        }
        catch (Exception e) when (e is BadImageFormatException or FileLoadException or ReflectionTypeLoadException or MissingMemberException or InvalidCastException)
        {
            problem = e.Message;
            return null;
        }
    }

    /// <summary>Runs a call into the declaration's code; what its own code throws becomes one line naming the model.</summary>
    private static object UserCode(string path, string model, Func<object> call)
    {
        try
        {
            return call();
        }
        catch (Exception e) when (e is TargetInvocationException or TypeInitializationException)
        {
            Exception inner = e;
            while (inner is TargetInvocationException or TypeInitializationException && inner.InnerException is not null)
            {
                inner = inner.InnerException;
            }

            throw new CliException($"{Path.GetFileName(path)}: the code of {model} threw {inner.GetType().Name}: {inner.Message}", inner: inner);
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

/// <summary>The build property a project sets to choose the flavour (<c>EdgeAeTarget</c>), as the generator reads it.</summary>
internal sealed class TargetOptions(TargetFlavor flavor) : AnalyzerConfigOptionsProvider
{
    private readonly AnalyzerConfigOptions _global = new Options(flavor.ToString());

    public override AnalyzerConfigOptions GlobalOptions => _global;

    public override AnalyzerConfigOptions GetOptions(SyntaxTree tree) => Options.Empty;

    public override AnalyzerConfigOptions GetOptions(AdditionalText textFile) => Options.Empty;

    private sealed class Options(string? target) : AnalyzerConfigOptions
    {
        public static readonly Options Empty = new(null);

        public override bool TryGetValue(string key, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out string? value)
        {
            value = key == TargetSelection.BuildProperty ? target : null;
            return value is not null;
        }
    }
}

/// <summary>A weight file handed to the generator as an AdditionalFiles item (it reads the bytes from <see cref="Path"/>).</summary>
internal sealed class WeightsText(string path, byte[] bytes) : AdditionalText
{
    public override string Path { get; } = path;

    public byte[] Bytes { get; } = bytes;

    public override SourceText? GetText(CancellationToken cancellationToken = default) => null;
}

/// <summary>Where a declaration's first build spends its time (printed with --verbose).</summary>
internal sealed class CompileTimings
{
    private static readonly long ProcessStart = System.Diagnostics.Process.GetCurrentProcess().StartTime.ToUniversalTime().Ticks;

    public TimeSpan Generate { get; set; }

    public TimeSpan Emit { get; set; }

    public TimeSpan Load { get; set; }

    public int GeneratedLines { get; set; }

    public override string ToString() => FormattableString.Invariant(
        $"model build: parse and run the generator {Generate.TotalSeconds:F2} s ({GeneratedLines:N0} lines with the generated code), compile and emit (optimised) {Emit.TotalSeconds:F2} s, load {Load.TotalSeconds:F2} s; {TimeSpan.FromTicks(DateTime.UtcNow.Ticks - ProcessStart).TotalSeconds:F1} s since the process started");
}

/// <summary>
/// Compiled declarations by content hash: <c>$XDG_CACHE_HOME/edgeae/models</c>, else <c>~/.cache/edgeae/models</c>.
/// An entry is one file: a header with the key it was built for and the SHA-256 of the assembly, then the assembly.
/// Both are verified before use, so an entry copied over another, truncated or corrupted is rebuilt instead of loaded.
/// Entries are written atomically.
/// </summary>
internal sealed class ModelCache(string directory)
{
    private const string Magic = "EDGEAE-MODEL-CACHE 1";

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

    public string PathOf(string hash) => Path.Combine(Directory, hash + ".model");

    /// <summary>True with the image of a verified entry; false (with <paramref name="problem"/> when an entry exists but is bad) otherwise.</summary>
    public bool TryGet(string hash, out byte[]? image, out string? problem)
    {
        image = null;
        problem = null;
        byte[] entry;
        try
        {
            if (!File.Exists(PathOf(hash)))
            {
                return false;
            }

            entry = File.ReadAllBytes(PathOf(hash));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            problem = e.Message;
            return false;
        }

        int end = entry.AsSpan().IndexOf("\n\n"u8);
        string[] header = end < 0 ? [] : Encoding.ASCII.GetString(entry, 0, end).Split('\n');
        if (header is not [Magic, string key, string sum] || !key.StartsWith("key ", StringComparison.Ordinal) || !sum.StartsWith("sha256 ", StringComparison.Ordinal))
        {
            problem = "not a cache entry of this edgeae";
            return false;
        }

        if (key[4..] != hash)
        {
            problem = "the entry was built for another declaration";
            return false;
        }

        byte[] body = entry[(end + 2)..];
        if (Convert.ToHexStringLower(SHA256.HashData(body)) != sum[7..])
        {
            problem = "the entry's content hash does not match (truncated or corrupted)";
            return false;
        }

        image = body;
        return true;
    }

    /// <summary>Stores an entry; a cache that cannot be written only costs the next run a compile.</summary>
    public void Put(string hash, byte[] image)
    {
        byte[] header = Encoding.ASCII.GetBytes($"{Magic}\nkey {hash}\nsha256 {Convert.ToHexStringLower(SHA256.HashData(image))}\n\n");
        try
        {
            System.IO.Directory.CreateDirectory(Directory);
            IO.AtomicFile.Write(PathOf(hash), stream =>
            {
                stream.Write(header);
                stream.Write(image);
            });
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Nothing more to do: the cache is an optimisation.
        }
    }
}
