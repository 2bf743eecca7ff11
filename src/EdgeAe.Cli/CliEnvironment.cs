using Spectre.Console;
using Spectre.Console.Cli;

namespace EdgeAe.Cli;

/// <summary>What a command writes to and where it keeps things; one per <see cref="CommandLine.Run"/>.</summary>
internal sealed class CliEnvironment
{
    public required IAnsiConsole Console { get; init; }

    public required TextWriter Error { get; init; }

    /// <summary>True for a live terminal: progress bars; false: one plain line per epoch (CI logs, tests).</summary>
    public required bool Interactive { get; init; }

    /// <summary>Folder of compiled declarations (see <see cref="ModelCache"/>); null: the user cache folder.</summary>
    public string? CacheDirectory { get; init; }

    /// <summary>Cancelled by the caller (tests); Ctrl+C is added by the train command.</summary>
    public CancellationToken Cancellation { get; init; }

    /// <summary>Writes plain text (no markup) and a newline.</summary>
    public void Line(string text = "") => Console.Profile.Out.Writer.WriteLine(text);
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
