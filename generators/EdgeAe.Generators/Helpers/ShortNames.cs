using System;
using System.Collections.Generic;
using System.Text;

namespace EdgeAe.Generators.Helpers;

/// <summary>
/// The short names the desktop file uses for what it calls outside the class (<c>Kernels.Dense</c>, <c>Unsafe.Add</c>,
/// <c>ReadOnlySpan&lt;float&gt;</c>, <c>Ae.ModelTopology</c>), through <c>using</c> directives inside the model's
/// namespace. The emitter writes every such name <c>global::</c>-qualified; <see cref="Shorten"/> turns it into its
/// short name unless the model's namespace or the model itself declares that name — a model called <c>Ae</c>, a type
/// <c>Kernels</c> or <c>Span</c> beside it — in which case the qualified name stays and no directive names it (a
/// directive would clash with the namespace's type, CS0576, or be hidden by it).
/// </summary>
internal sealed class ShortNames
{
    /// <summary>Qualified name (without <c>global::</c>) → short name, and the directive that makes the short name work.</summary>
    private static readonly (string Qualified, string Short, string Using)[] s_all =
    [
        ("EdgeAe", "Ae", "using Ae = global::EdgeAe;"),
        ("EdgeAe.Kernels", "Kernels", "using Kernels = global::EdgeAe.Kernels;"),
        ("System.Runtime.InteropServices.MemoryMarshal", "MemoryMarshal", "using MemoryMarshal = global::System.Runtime.InteropServices.MemoryMarshal;"),
        ("System.Runtime.CompilerServices.Unsafe", "Unsafe", "using Unsafe = global::System.Runtime.CompilerServices.Unsafe;"),
        ("System.CodeDom.Compiler.GeneratedCode", "GeneratedCode", "using System.CodeDom.Compiler;"),
        ("System.ReadOnlySpan", "ReadOnlySpan", SystemUsing),
        ("System.Span", "Span", SystemUsing),
        ("System.Array", "Array", SystemUsing),
        ("System.ArgumentException", "ArgumentException", SystemUsing),
        ("System.ArgumentNullException", "ArgumentNullException", SystemUsing),
        ("System.ArgumentOutOfRangeException", "ArgumentOutOfRangeException", SystemUsing),
        ("System.InvalidOperationException", "InvalidOperationException", SystemUsing),
        ("System.BitConverter", "BitConverter", SystemUsing),
        ("System.MemoryExtensions", "MemoryExtensions", SystemUsing),
        ("System.Math", "Math", SystemUsing),
        ("System.MathF", "MathF", SystemUsing),
    ];

    private const string SystemUsing = "using System;";
    private const string Global = "global::";

    /// <summary>No short names: every name stays as written (the firmware flavour and the attribute sources).</summary>
    public static readonly ShortNames None = new(Array.Empty<(string, string, string)>());

    /// <summary>The active names, longest qualified name first, so that the longest known prefix wins.</summary>
    private readonly (string Qualified, string Short)[] _names;
    private readonly StringBuilder _scratch = new();

    private ShortNames((string Qualified, string Short, string Using)[] active)
    {
        var usings = new List<string>();
        var names = new List<(string Qualified, string Short)>();
        foreach ((string qualified, string name, string directive) in active)
        {
            names.Add((qualified, name));
            if (!usings.Contains(directive))
            {
                usings.Add(directive);
            }
        }

        names.Sort((a, b) => b.Qualified.Length.CompareTo(a.Qualified.Length));
        _names = names.ToArray();

        // System's namespace directives first, then the aliases, each group in ordinal order.
        usings.Sort((a, b) => a.Contains(" = ") == b.Contains(" = ")
            ? string.CompareOrdinal(a.TrimEnd(';'), b.TrimEnd(';'))
            : a.Contains(" = ") ? 1 : -1);
        Usings = usings;
    }

    /// <summary>
    /// Every short name a declaration could take away from the generated file: the name itself, and for an attribute
    /// also the name with <c>Attribute</c> (<c>[GeneratedCode]</c> finds a type <c>GeneratedCodeAttribute</c>).
    /// </summary>
    public static IEnumerable<string> Candidates
    {
        get
        {
            yield return "System"; // a type System beside the model would take the namespace of the System directives
            foreach ((_, string name, _) in s_all)
            {
                yield return name;
                if (name == "GeneratedCode")
                {
                    yield return name + "Attribute";
                }
            }
        }
    }

    /// <summary>The <c>using</c> directives the shortened names need, in a stable order.</summary>
    public IReadOnlyList<string> Usings { get; }

    /// <summary>The short names a file may use when <paramref name="taken"/> are declared by the model's namespace or the model.</summary>
    public static ShortNames Except(EquatableArray<string> taken)
    {
        var active = new List<(string, string, string)>();
        foreach ((string qualified, string name, string directive) in s_all)
        {
            bool isTaken = false;
            foreach (string t in taken.AsSpan())
            {
                isTaken |= t == name || (name == "GeneratedCode" && t == name + "Attribute")
                    || (t == "System" && directive.StartsWith("using System", StringComparison.Ordinal));
            }

            if (!isTaken)
            {
                active.Add((qualified, name, directive));
            }
        }

        return new ShortNames(active.ToArray());
    }

    /// <summary>
    /// <paramref name="text"/> with each <c>global::</c>-qualified name replaced by the short name of its longest known
    /// qualified prefix (<c>global::EdgeAe.Kernels.Dense.Forward</c> → <c>Kernels.Dense.Forward</c>); the same string when
    /// nothing is shortened.
    /// </summary>
    public string Shorten(string text)
    {
        if (_names.Length == 0 || text.IndexOf(Global, StringComparison.Ordinal) < 0)
        {
            return text;
        }

        StringBuilder b = _scratch.Clear();
        int i = 0;
        while (i < text.Length)
        {
            int at = text.IndexOf(Global, i, StringComparison.Ordinal);
            if (at < 0)
            {
                b.Append(text, i, text.Length - i);
                break;
            }

            b.Append(text, i, at - i);
            int start = at + Global.Length;
            string? match = null;
            foreach ((string qualified, string name) in _names)
            {
                int end = start + qualified.Length;
                if (end <= text.Length && string.CompareOrdinal(text, start, qualified, 0, qualified.Length) == 0
                    && (end == text.Length || !(char.IsLetterOrDigit(text[end]) || text[end] == '_')))
                {
                    match = name;
                    i = end;
                    break;
                }
            }

            if (match is null)
            {
                b.Append(Global);
                i = start;
            }
            else
            {
                b.Append(match);
            }
        }

        return b.ToString();
    }
}
