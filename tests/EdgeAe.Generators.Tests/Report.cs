namespace EdgeAe.Generators.Tests;

/// <summary>
/// Measurements a test records for the docs: sent as a diagnostic message, and appended to the file
/// named by EDGEAE_REPORT_FILE when it is set (how docs/BENCHMARKS.md figures are collected).
/// </summary>
internal static class Report
{
    public static void Line(string text)
    {
        TestContext.Current.SendDiagnosticMessage(text);
        string? file = Environment.GetEnvironmentVariable("EDGEAE_REPORT_FILE");
        if (!string.IsNullOrEmpty(file))
        {
            File.AppendAllText(file, text + Environment.NewLine);
        }
    }
}
