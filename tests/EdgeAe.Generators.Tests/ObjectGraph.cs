using System.Reflection;
using Microsoft.CodeAnalysis;

namespace EdgeAe.Generators.Tests;

/// <summary>
/// Finds Roslyn objects held (directly or deep inside) by a pipeline value. A cached step output that
/// holds a symbol, syntax node, compilation, semantic model or location keeps a whole compilation alive
/// in the IDE, and compares by reference, so it never caches.
/// </summary>
internal static class ObjectGraph
{
    private static readonly Type[] Forbidden =
    [
        typeof(ISymbol), typeof(SyntaxNode), typeof(SyntaxTree), typeof(Compilation), typeof(SemanticModel),
        typeof(Location), typeof(AttributeData), typeof(SyntaxReference), typeof(SyntaxToken),
    ];

    /// <summary>Paths (e.g. <c>root.Value.Diagnostics._items[0]</c>) of every forbidden object reachable from <paramref name="root"/>.</summary>
    public static List<string> FindForbidden(object? root, string name = "root")
    {
        var found = new List<string>();
        Walk(root, name, new HashSet<object>(ReferenceEqualityComparer.Instance), found);
        return found;
    }

    private static void Walk(object? value, string path, HashSet<object> visited, List<string> found)
    {
        if (value is null)
        {
            return;
        }

        Type type = value.GetType();
        if (type.IsPrimitive || type.IsEnum || type.IsPointer || value is string or decimal or Type or Pointer)
        {
            return;
        }

        if (Forbidden.Any(f => f.IsAssignableFrom(type)))
        {
            found.Add($"{path}: {type.FullName}");
            return;
        }

        if (!type.IsValueType && !visited.Add(value))
        {
            return;
        }

        if (value is Array array)
        {
            int index = 0;
            foreach (object? item in array)
            {
                Walk(item, $"{path}[{index++}]", visited, found);
            }

            return;
        }

        for (Type? t = type; t is not null && t != typeof(object); t = t.BaseType)
        {
            foreach (FieldInfo field in t.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
            {
                if (!field.FieldType.IsPointer && !field.FieldType.IsByRefLike)
                {
                    Walk(field.GetValue(value), path + "." + field.Name, visited, found);
                }
            }
        }
    }
}
