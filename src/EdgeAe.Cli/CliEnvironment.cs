using Spectre.Console;
using Spectre.Console.Cli;

namespace EdgeAe.Cli;

/// <summary>What a command writes to and where it keeps things; one per <see cref="CommandLine.Run"/>.</summary>
/// <remarks>
/// With <c>--json</c> a command's standard output is exactly one JSON object (<see cref="WriteJson{T}"/>); everything
/// meant for people — progress, notes, tables — goes to standard error instead, and there is no live display.
/// </remarks>
internal sealed class CliEnvironment
{
    /// <summary>The console over standard output (results, progress and help without <c>--json</c>).</summary>
    public required IAnsiConsole OutputConsole { get; init; }

    /// <summary>The console over standard error (human output under <c>--json</c>).</summary>
    public required IAnsiConsole ErrorConsole { get; init; }

    public required TextWriter Error { get; init; }

    /// <summary>True for a live terminal: progress bars; false: one plain line per epoch (CI logs, tests, --json).</summary>
    public required bool Terminal { get; init; }

    /// <summary>Folder of compiled declarations (see <see cref="ModelCache"/>); null: the user cache folder.</summary>
    public string? CacheDirectory { get; init; }

    /// <summary>Cancelled by the caller (tests); Ctrl+C and SIGTERM are added by the train command.</summary>
    public CancellationToken Cancellation { get; init; }

    /// <summary>Whether the command runs with <c>--verbose</c>.</summary>
    public bool Verbose { get; set; }

    /// <summary>Whether the command runs with <c>--json</c>.</summary>
    public bool Json { get; set; }

    /// <summary>
    /// Whether the command writes its result to standard output as data (<c>detect</c> without <c>--out</c>): then, as under
    /// <c>--json</c>, everything meant for people goes to standard error, so that the output can be redirected into a file.
    /// </summary>
    public bool ResultOnStandardOutput { get; set; }

    /// <summary>Where human-readable output goes: standard output, or standard error under <c>--json</c> or when the result goes there.</summary>
    public IAnsiConsole Console => Json || ResultOnStandardOutput ? ErrorConsole : OutputConsole;

    /// <summary>True when a live progress display can be shown.</summary>
    public bool Interactive => Terminal && !Json && !ResultOnStandardOutput && OutputConsole.Profile.Capabilities.Interactive;

    /// <summary>Writes plain text (no markup) and a newline for people.</summary>
    public void Line(string text = "") => Console.Profile.Out.Writer.WriteLine(text);

    /// <summary>Writes the command's JSON report to standard output when the command runs with <c>--json</c>.</summary>
    public void WriteJson<T>(T report, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type)
    {
        if (Json)
        {
            WriteJson(System.Text.Json.JsonSerializer.Serialize(report, type));
        }
    }

    /// <summary>Writes one JSON object, already serialised, to standard output when the command runs with <c>--json</c>.</summary>
    public void WriteJson(string json)
    {
        if (Json)
        {
            TextWriter output = OutputConsole.Profile.Out.Writer;
            output.WriteLine(json);
            output.Flush();
        }
    }
}

/// <summary>
/// A minimal registrar: instances, types and factories (several per service for IEnumerable);
/// anything else is built through its widest public constructor.
/// </summary>
internal sealed class TypeRegistrar : ITypeRegistrar, ITypeResolver
{
    private readonly Dictionary<Type, List<Func<object>>> _factories = [];

    public void Register(Type service, Type implementation) => Add(service, () => Create(implementation));

    public void RegisterInstance(Type service, object implementation) => Add(service, () => implementation);

    public void RegisterLazy(Type service, Func<object> factory) => Add(service, factory);

    public ITypeResolver Build() => this;

    public object? Resolve(Type? type)
    {
        if (type is null)
        {
            return null;
        }

        if (_factories.TryGetValue(type, out List<Func<object>>? factories))
        {
            return factories[^1]();
        }

        if (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(IEnumerable<>))
        {
            Type element = type.GetGenericArguments()[0];
            List<Func<object>> all = _factories.TryGetValue(element, out List<Func<object>>? found) ? found : [];
            var array = Array.CreateInstance(element, all.Count);
            for (int i = 0; i < all.Count; i++)
            {
                array.SetValue(all[i](), i);
            }

            return array;
        }

        return type.IsAbstract || type.IsInterface ? null : Create(type);
    }

    private void Add(Type service, Func<object> factory)
    {
        if (!_factories.TryGetValue(service, out List<Func<object>>? list))
        {
            _factories[service] = list = [];
        }

        list.Add(factory);
    }

    private object Create(Type type)
    {
        System.Reflection.ConstructorInfo constructor = type.GetConstructors().OrderByDescending(c => c.GetParameters().Length).FirstOrDefault()
            ?? throw new InvalidOperationException($"{type} has no public constructor.");
        object?[] arguments = constructor.GetParameters().Select(p => Resolve(p.ParameterType)).ToArray();
        return constructor.Invoke(arguments);
    }
}
