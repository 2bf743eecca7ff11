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

    /// <summary>
    /// The short names code lines are written with (<see cref="ShortNames.Shorten"/>): the emitter writes names from
    /// outside the class <c>global::</c>-qualified, and lines are shortened before they are measured and wrapped.
    /// </summary>
    public ShortNames Names { get; init; } = ShortNames.None;

    public int Indentation
    {
        get => _indentation;
        set => _indentation = value >= 0 ? value : throw new ArgumentOutOfRangeException(nameof(value));
    }

    /// <summary>Writes a line (or several, split on '\n'), each indented to the current level.</summary>
    public void WriteLine(string text)
    {
        text = Names.Shorten(text);
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

    /// <summary>
    /// Writes an expression-bodied member, <c>signature =&gt; body</c>, on one line when it fits in
    /// <see cref="MaxLineLength"/> after <see cref="Names"/> shortened it, else with <c>=&gt; body</c> on the next line,
    /// one level deeper.
    /// </summary>
    public void WriteExpressionMember(string signature, string body)
    {
        signature = Names.Shorten(signature);
        body = Names.Shorten(body);
        if (_indentation * SpacesPerLevel + signature.Length + 4 + body.Length <= MaxLineLength)
        {
            WriteIndentedLine(signature + " => " + body);
            return;
        }

        WriteIndentedLine(signature);
        _indentation++;
        WriteIndentedLine("=> " + body);
        _indentation--;
    }

    /// <summary>Writes one line as it is, not shortened by <see cref="Names"/> (the <c>using</c> directives themselves).</summary>
    public void WriteVerbatim(string line) => WriteIndentedLine(line);

    /// <summary>Longest line the writer's wrapping methods produce (indentation included).</summary>
    public const int MaxLineLength = 120;

    /// <summary>
    /// Writes a statement on one line when it fits in <see cref="MaxLineLength"/>; otherwise breaks after the opening
    /// parenthesis of its outermost argument list and packs the arguments onto the following lines, one level deeper.
    /// Appends straight from <paramref name="statement"/> (no substrings): the writer's allocations are most of the
    /// generator's per model.
    /// </summary>
    public void WriteStatement(string statement)
    {
        statement = Names.Shorten(statement);
        int open = statement.IndexOf('(');
        if (_indentation * SpacesPerLevel + statement.Length <= MaxLineLength || open < 0)
        {
            WriteLine(statement);
            return;
        }

        int close = statement.LastIndexOf(')');
        _builder.Append(' ', _indentation * SpacesPerLevel).Append(statement, 0, open + 1).Append('\n');
        int indent = (_indentation + 1) * SpacesPerLevel;
        int line = 0; // characters on the current line after the indentation
        int next = open + 1;
        while (next <= close)
        {
            int end = EndOfArgument(statement, next, close);
            int first = next, last = end;
            while (first < last && char.IsWhiteSpace(statement[first]))
            {
                first++;
            }

            while (last > first && char.IsWhiteSpace(statement[last - 1]))
            {
                last--;
            }

            bool final = end == close;
            int suffix = final ? statement.Length - close : 1; // ")…" after the last argument, else ","
            int piece = last - first + suffix;
            if (line > 0 && indent + line + 1 + piece > MaxLineLength)
            {
                _builder.Append('\n');
                line = 0;
            }

            if (line == 0)
            {
                _builder.Append(' ', indent);
            }
            else
            {
                _builder.Append(' ');
                line++;
            }

            _builder.Append(statement, first, last - first);
            if (final)
            {
                _builder.Append(statement, close, statement.Length - close);
            }
            else
            {
                _builder.Append(',');
            }

            line += piece;
            next = end + 1;
        }

        _builder.Append('\n');
    }

    /// <summary>Writes a <c>&lt;summary&gt;</c> doc comment, on one line when it fits, else wrapped at word boundaries.</summary>
    public void WriteSummary(string text)
    {
        const string Open = "/// <summary>", Close = "</summary>";
        text = Names.Shorten(text);
        CheckParagraph(text);
        if (_indentation * SpacesPerLevel + Open.Length + text.Length + Close.Length <= MaxLineLength)
        {
            _builder.Append(' ', _indentation * SpacesPerLevel).Append(Open).Append(text).Append(Close).Append('\n');
            return;
        }

        WriteLine(Open);
        WriteDoc(text);
        WriteLine("/// </summary>");
    }

    /// <summary>Writes <paramref name="text"/> as <c>///</c> doc-comment lines wrapped at word boundaries.</summary>
    public void WriteDoc(string text) => WriteWrapped("///", text);

    /// <summary>Writes <paramref name="text"/> as <c>//</c> comment lines wrapped at word boundaries.</summary>
    public void WriteComment(string text) => WriteWrapped("//", text);

    /// <summary>
    /// <paramref name="prefix"/> and the words of <paramref name="text"/> (split at spaces, an XML tag such as
    /// <c>&lt;see cref="x"/&gt;</c> kept as one word), a new line whenever the next word would pass
    /// <see cref="MaxLineLength"/>; appended straight from <paramref name="text"/>.
    /// </summary>
    private void WriteWrapped(string prefix, string text)
    {
        text = Names.Shorten(text);
        CheckParagraph(text);
        int indent = _indentation * SpacesPerLevel;
        _builder.Append(' ', indent).Append(prefix);
        int line = prefix.Length;
        bool inTag = false;
        int start = 0;
        for (int i = 0; i <= text.Length; i++)
        {
            if (i < text.Length)
            {
                char c = text[i];
                if (c != ' ' || inTag)
                {
                    inTag = c == '<' || (inTag && c != '>');
                    continue;
                }
            }

            int length = i - start;
            if (line > prefix.Length && indent + line + 1 + length > MaxLineLength)
            {
                _builder.Append('\n').Append(' ', indent).Append(prefix);
                line = prefix.Length;
            }

            _builder.Append(' ').Append(text, start, length);
            line += 1 + length;
            start = i + 1;
        }

        _builder.Append('\n');
    }

    /// <summary>
    /// Comments and summaries are one paragraph each: a line break inside one would continue on a line without its
    /// <c>//</c> or <c>///</c> (no emitter writes one; this names the emitter's mistake instead of emitting broken C#).
    /// </summary>
    private static void CheckParagraph(string text)
    {
        if (text.IndexOf('\n') >= 0)
        {
            throw new ArgumentException("A comment or summary is one paragraph; this one holds a line break: " + text, nameof(text));
        }
    }

    /// <summary>
    /// The end of the argument starting at <paramref name="start"/> of the list ending at <paramref name="close"/>: the
    /// next comma outside string literals, parentheses, brackets and angle brackets, or <paramref name="close"/>.
    /// </summary>
    private static int EndOfArgument(string text, int start, int close)
    {
        int depth = 0;
        bool inString = false;
        for (int i = start; i < close; i++)
        {
            char c = text[i];
            if (inString)
            {
                if (c == '\\')
                {
                    i++; // an escaped character, e.g. \" inside the literal
                }
                else if (c == '"')
                {
                    inString = false;
                }

                continue;
            }

            if (c == '"')
            {
                inString = true;
            }
            else if (c is '(' or '[' or '<' or '{')
            {
                depth++;
            }
            else if (c is ')' or ']' or '>' or '}')
            {
                depth--;
            }
            else if (c == ',' && depth == 0)
            {
                return i;
            }
        }

        return close;
    }

    /// <summary>
    /// Writes <paramref name="header"/> (wrapped as <see cref="WriteStatement"/> wraps a statement when it is too long, e.g.
    /// a signature with global::-qualified parameter types), an opening brace, and indents one level.
    /// </summary>
    public void OpenBlock(string header)
    {
        WriteStatement(header);
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
