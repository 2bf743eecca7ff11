using System;
using System.Text;

namespace EdgeAe.Generators.Helpers;

/// <summary>
/// A small indentation-aware text writer for emitted C#: each <see cref="WriteLine(string)"/> is
/// indented to the current level, and blocks open and close with matching braces.
/// </summary>
internal sealed class SourceWriter
{
    private const int SpacesPerLevel = 4;
    private readonly StringBuilder _builder = new();
    private int _indentation;

    public int Indentation
    {
        get => _indentation;
        set => _indentation = value >= 0 ? value : throw new ArgumentOutOfRangeException(nameof(value));
    }

    /// <summary>Writes a line (or several, split on '\n'), each indented to the current level.</summary>
    public void WriteLine(string text)
    {
        if (text.IndexOf('\n') < 0)
        {
            WriteIndentedLine(text);
            return;
        }

        foreach (string line in text.Split('\n'))
        {
            WriteIndentedLine(line.TrimEnd('\r'));
        }
    }

    public void WriteLine() => _builder.Append('\n');

    /// <summary>Writes <paramref name="header"/>, an opening brace, and indents one level.</summary>
    public void OpenBlock(string header)
    {
        WriteLine(header);
        WriteLine("{");
        _indentation++;
    }

    /// <summary>Un-indents one level and writes a closing brace (with an optional suffix such as ";").</summary>
    public void CloseBlock(string suffix = "")
    {
        _indentation--;
        WriteLine("}" + suffix);
    }

    public override string ToString()
    {
        if (_indentation != 0)
        {
            throw new InvalidOperationException($"Unbalanced indentation: {_indentation} level(s) still open.");
        }

        return _builder.ToString();
    }

    private void WriteIndentedLine(string line)
    {
        if (line.Length > 0)
        {
            _builder.Append(' ', _indentation * SpacesPerLevel);
            _builder.Append(line);
        }

        _builder.Append('\n');
    }
}
