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

    /// <summary>Longest line the writer's wrapping methods produce (indentation included).</summary>
    public const int MaxLineLength = 120;

    /// <summary>
    /// Writes a statement on one line when it fits in <see cref="MaxLineLength"/>; otherwise breaks after the opening
    /// parenthesis of its outermost argument list and packs the arguments onto the following lines, one level deeper.
    /// </summary>
    public void WriteStatement(string statement)
    {
        int open = statement.IndexOf('(');
        if (_indentation * SpacesPerLevel + statement.Length <= MaxLineLength || open < 0)
        {
            WriteLine(statement);
            return;
        }

        int close = statement.LastIndexOf(')');
        string head = statement.Substring(0, open + 1);
        string tail = statement.Substring(close);
        var arguments = SplitTopLevel(statement.Substring(open + 1, close - open - 1));
        WriteLine(head);
        _indentation++;
        var line = new StringBuilder();
        for (int i = 0; i < arguments.Count; i++)
        {
            string piece = arguments[i] + (i + 1 < arguments.Count ? "," : tail);
            if (line.Length > 0 && _indentation * SpacesPerLevel + line.Length + 1 + piece.Length > MaxLineLength)
            {
                WriteLine(line.ToString());
                line.Clear();
            }

            line.Append(line.Length > 0 ? " " : string.Empty).Append(piece);
        }

        WriteLine(line.ToString());
        _indentation--;
    }

    /// <summary>Writes a <c>&lt;summary&gt;</c> doc comment, on one line when it fits, else wrapped at word boundaries.</summary>
    public void WriteSummary(string text)
    {
        string single = "/// <summary>" + text + "</summary>";
        if (_indentation * SpacesPerLevel + single.Length <= MaxLineLength)
        {
            WriteLine(single);
            return;
        }

        WriteLine("/// <summary>");
        WriteDoc(text);
        WriteLine("/// </summary>");
    }

    /// <summary>Writes <paramref name="text"/> as <c>///</c> doc-comment lines wrapped at word boundaries.</summary>
    public void WriteDoc(string text) => WriteWrapped("///", text);

    /// <summary>Writes <paramref name="text"/> as <c>//</c> comment lines wrapped at word boundaries.</summary>
    public void WriteComment(string text) => WriteWrapped("//", text);

    private void WriteWrapped(string prefix, string text)
    {
        var line = new StringBuilder(prefix);
        foreach (string word in Words(text))
        {
            if (line.Length > prefix.Length && _indentation * SpacesPerLevel + line.Length + 1 + word.Length > MaxLineLength)
            {
                WriteLine(line.ToString());
                line.Clear().Append(prefix);
            }

            line.Append(' ').Append(word);
        }

        WriteLine(line.ToString());
    }

    /// <summary>The words of <paramref name="text"/>, an XML tag such as <c>&lt;see cref="x"/&gt;</c> kept as one word.</summary>
    private static System.Collections.Generic.List<string> Words(string text)
    {
        var words = new System.Collections.Generic.List<string>();
        var word = new StringBuilder();
        bool inTag = false;
        foreach (char c in text)
        {
            if (c == ' ' && !inTag)
            {
                words.Add(word.ToString());
                word.Clear();
                continue;
            }

            inTag = c == '<' || (inTag && c != '>');
            word.Append(c);
        }

        words.Add(word.ToString());
        return words;
    }

    /// <summary>Splits an argument list at the commas outside parentheses, brackets and angle brackets.</summary>
    private static System.Collections.Generic.List<string> SplitTopLevel(string arguments)
    {
        var parts = new System.Collections.Generic.List<string>();
        int depth = 0;
        int start = 0;
        for (int i = 0; i < arguments.Length; i++)
        {
            char c = arguments[i];
            if (c is '(' or '[' or '<' or '{')
            {
                depth++;
            }
            else if (c is ')' or ']' or '>' or '}')
            {
                depth--;
            }
            else if (c == ',' && depth == 0)
            {
                parts.Add(arguments.Substring(start, i - start).Trim());
                start = i + 1;
            }
        }

        parts.Add(arguments.Substring(start).Trim());
        return parts;
    }

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
