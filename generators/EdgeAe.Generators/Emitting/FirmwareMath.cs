using System;
using System.IO;
using System.Text;

namespace EdgeAe.Generators.Emitting;

/// <summary>
/// The firmware flavour's math functions: the text between the <c>// &lt;firmware-math&gt;</c> markers of the runtime's
/// <c>src/EdgeAe/Kernels/PortableMath.cs</c>, embedded in this assembly, so the device runs the very source the
/// desktop's portable path compiles (one text, two targets).
/// </summary>
internal static class FirmwareMath
{
    private const string ResourceName = "EdgeAe.Generators.PortableMath.cs";
    private const string Start = "// <firmware-math>";
    private const string End = "// </firmware-math>";

    private static readonly Lazy<string> s_text = new(Load);

    /// <summary>The functions, de-indented to column 0.</summary>
    public static string Text => s_text.Value;

    private static string Load()
    {
        using Stream stream = typeof(FirmwareMath).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"The resource {ResourceName} is missing from the generator.");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        string source = reader.ReadToEnd().Replace("\r\n", "\n");
        int start = source.IndexOf(Start, StringComparison.Ordinal);
        int end = source.IndexOf(End, StringComparison.Ordinal);
        if (start < 0 || end < start)
        {
            throw new InvalidOperationException($"{ResourceName} has no {Start} … {End} section.");
        }

        string[] lines = source.Substring(start + Start.Length, end - start - Start.Length).Trim('\n').Split('\n');
        var text = new StringBuilder();
        foreach (string line in lines)
        {
            string trimmed = line.TrimEnd();
            text.Append(trimmed.StartsWith("    ", StringComparison.Ordinal) ? trimmed.Substring(4) : trimmed.TrimStart()).Append('\n');
        }

        return text.ToString().TrimEnd('\n');
    }
}
