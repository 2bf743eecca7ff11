using System.Globalization;
using System.Text;

namespace EdgeAe.Data;

/// <summary>
/// A data file (CSV or IDX) whose content is not what its reader expects. The message names the
/// file, the 1-based row and column where they apply, and what was expected against what was found,
/// e.g. <c>digits.csv row 12: expected 65 columns but found 64</c>.
/// </summary>
/// <remarks>
/// Readers throw this only for bad content. A missing file is reported as
/// <see cref="FileNotFoundException"/> (with <see cref="FileNotFoundException.FileName"/> set to the path),
/// and operating-system errors such as a denied permission propagate unchanged.
/// </remarks>
public sealed class DataFormatException : Exception
{
    /// <summary>Creates the exception for a problem in <paramref name="filePath"/>.</summary>
    /// <param name="filePath">The file as the caller named it (or the display name of a stream).</param>
    /// <param name="row">1-based row (line) of the problem, or null when it is not about one row.</param>
    /// <param name="column">1-based column of the problem, or null when it is not about one column.</param>
    /// <param name="problem">What was expected and what was found, e.g. <c>'abc' is not a number</c>.</param>
    /// <param name="innerException">The underlying error, if any (e.g. a broken gzip stream).</param>
    public DataFormatException(string filePath, int? row, int? column, string problem, Exception? innerException = null)
        : base(Compose(filePath, row, column, problem), innerException)
    {
        ArgumentNullException.ThrowIfNull(filePath);
        ArgumentNullException.ThrowIfNull(problem);
        FilePath = filePath;
        Row = row;
        Column = column;
    }

    /// <summary>The file (or stream display name) in which the problem was found.</summary>
    public string FilePath { get; }

    /// <summary>1-based row (for CSV, the line number in the file, header included), or null.</summary>
    public int? Row { get; }

    /// <summary>1-based column (counting every column in the file, label included), or null.</summary>
    public int? Column { get; }

    private static string Compose(string? filePath, int? row, int? column, string? problem)
    {
        var text = new StringBuilder(filePath);
        if (row is not null)
        {
            text.Append(CultureInfo.InvariantCulture, $" row {row}");
        }

        if (column is not null)
        {
            text.Append(row is null ? " " : ", ").Append(CultureInfo.InvariantCulture, $"column {column}");
        }

        return text.Append(": ").Append(problem).ToString();
    }
}
