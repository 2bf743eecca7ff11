using System.Collections.Immutable;
using System.Diagnostics.CodeAnalysis;
using System.Reflection;
using System.Runtime.Loader;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Emit;

namespace EdgeAe.Generators.Tests;

/// <summary>
/// Runs the generator for the firmware flavour: against nanoFramework's own mscorlib (what the device
/// offers, nothing else), or against the desktop references to execute the firmware code on .NET.
/// </summary>
internal static class NanoHarness
{
    public static readonly MetadataReference Mscorlib =
        MetadataReference.CreateFromFile(Path.Combine(AppContext.BaseDirectory, "nf", "mscorlib.dll"));

    /// <summary>The generator run on <paramref name="sources"/> compiled against nanoFramework's mscorlib only.</summary>
    public static GeneratorRun RunAgainstNanoFramework(string? targetProperty, params string[] sources)
    {
        CSharpCompilation compilation = CSharpCompilation.Create(
            "EdgeAe.Firmware",
            sources.Select((text, i) => GeneratorHarness.ParseSource(text, i)),
            [Mscorlib],
            GeneratorHarness.CompilationOptions);
        return GeneratorHarness.Run(CreateDriver(targetProperty), compilation);
    }

    /// <summary>The generator run with <c>EdgeAeTarget</c> set, against the desktop references.</summary>
    public static GeneratorRun RunAgainstDesktop(string? targetProperty, params string[] sources)
        => GeneratorHarness.Run(CreateDriver(targetProperty), GeneratorHarness.CreateCompilation(sources));

    public static GeneratorDriver CreateDriver(string? targetProperty, params AdditionalText[] additionalTexts)
        => CSharpGeneratorDriver.Create(
            [new AutoencoderGenerator().AsSourceGenerator()],
            additionalTexts: additionalTexts.ToImmutableArray(),
            parseOptions: GeneratorHarness.ParseOptions,
            optionsProvider: new GlobalOptionsProvider(targetProperty is null
                ? ImmutableDictionary<string, string>.Empty
                : ImmutableDictionary<string, string>.Empty.Add("build_property.EdgeAeTarget", targetProperty)),
            driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: true));

    /// <summary>Errors and warnings of the output compilation (generated code included).</summary>
    public static Diagnostic[] Problems(GeneratorRun run)
        => run.OutputDiagnostics.Where(d => d.Severity >= DiagnosticSeverity.Warning).ToArray();

    /// <summary>Emits the run's output, loads it in a collectible context and hands the assembly over.</summary>
    public static T WithAssembly<T>(GeneratorRun run, Func<Assembly, T> use)
    {
        using var image = new MemoryStream();
        EmitResult emitted = run.Output.Emit(image);
        if (!emitted.Success)
        {
            throw new InvalidOperationException(GeneratorHarness.DescribeFailure(run, emitted.Diagnostics));
        }

        image.Position = 0;
        var context = new AssemblyLoadContext("EdgeAe.Generators.Tests:nano", isCollectible: true);
        try
        {
            return use(context.LoadFromStream(image));
        }
        finally
        {
            context.Unload();
        }
    }

    private sealed class GlobalOptionsProvider(ImmutableDictionary<string, string> values) : AnalyzerConfigOptionsProvider
    {
        public override AnalyzerConfigOptions GlobalOptions { get; } = new Options(values);

        public override AnalyzerConfigOptions GetOptions(SyntaxTree tree) => new Options(ImmutableDictionary<string, string>.Empty);

        public override AnalyzerConfigOptions GetOptions(AdditionalText textFile) => new Options(ImmutableDictionary<string, string>.Empty);
    }

    private sealed class Options(ImmutableDictionary<string, string> values) : AnalyzerConfigOptions
    {
        public override bool TryGetValue(string key, [NotNullWhen(true)] out string? value) => values.TryGetValue(key, out value);
    }
}

/// <summary>A firmware-flavour model called by reflection (it implements no desktop interface).</summary>
internal sealed class NanoModel(object instance)
{
    private readonly Type _type = instance.GetType();

    public float[] Parameters => (float[])Call("get_Parameters", Type.EmptyTypes);

    public float[] Gradients => (float[])Call("get_Gradients", Type.EmptyTypes);

    public int Constant(string name) => (int)_type.GetField(name)!.GetRawConstantValue()!;

    public void Encode(float[] input, float[] code) => Call(nameof(Encode), TwoArrays, input, code);

    public void Decode(float[] code, float[] output) => Call(nameof(Decode), TwoArrays, code, output);

    public float Reconstruct(float[] input, float[] output) => (float)Call(nameof(Reconstruct), TwoArrays, input, output);

    public float AccumulateGradients(float[] input, float[] target) => (float)Call(nameof(AccumulateGradients), TwoArrays, input, target);

    public void ZeroGradients() => Call(nameof(ZeroGradients), Type.EmptyTypes);

    public float TrainStep(float[] input, float learningRate) => (float)Call(nameof(TrainStep), [typeof(float[]), typeof(float)], input, learningRate);

    private static readonly Type[] TwoArrays = [typeof(float[]), typeof(float[])];

    public static NanoModel Create(Assembly assembly, string fullTypeName, params object[] arguments)
        => new(Activator.CreateInstance(assembly.GetType(fullTypeName, throwOnError: true)!, arguments)!);

    private object Call(string method, Type[] types, params object?[] arguments)
    {
        try
        {
            return _type.GetMethod(method, types)!.Invoke(instance, arguments)!;
        }
        catch (TargetInvocationException e) when (e.InnerException is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.InnerException).Throw();
            throw;
        }
    }
}
