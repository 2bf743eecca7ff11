namespace EdgeAe.Cli;

/// <summary>
/// A problem the user can fix (missing file, bad declaration, wrong data width…): printed as one
/// line, followed by <see cref="Details"/> (e.g. compiler diagnostics), and the command exits with
/// <see cref="ExitCode"/>. No stack trace unless <c>--verbose</c>.
/// </summary>
internal sealed class CliException : Exception
{
    public CliException(string message, int exitCode = CommandLine.Failure, IReadOnlyList<string>? details = null, Exception? inner = null)
        : base(message, inner)
    {
        ExitCode = exitCode;
        Details = details ?? [];
    }

    public int ExitCode { get; }

    public IReadOnlyList<string> Details { get; }

    /// <summary>A bad option value: exit code 2 like other usage errors.</summary>
    public static CliException Usage(string message) => new(message, CommandLine.UsageError);
}
