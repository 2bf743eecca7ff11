using System.Reflection;
using System.Text;
using System.Text.RegularExpressions;

namespace EdgeAe.Generators.Tests;

/// <summary>
/// Approved generated sources under <c>Snapshots/*.g.cs</c>, compared exactly after the generator version
/// in <c>[GeneratedCode]</c> is scrubbed. <c>EDGEAE_UPDATE_SNAPSHOTS=1</c> rewrites them instead; review the diff.
/// </summary>
internal static partial class Snapshot
{
    public const string UpdateVariable = "EDGEAE_UPDATE_SNAPSHOTS";

    /// <summary>The source folder of the snapshots (recorded at build time, so it survives path mapping in CI).</summary>
    public static string Directory { get; } =
        typeof(Snapshot).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .Single(a => a.Key == "EdgeAe.SnapshotDirectory").Value!;

    private static bool Updating => Environment.GetEnvironmentVariable(UpdateVariable) == "1";

    /// <summary>Replaces the generator version in every <c>[GeneratedCode]</c> with <c>&lt;version&gt;</c>.</summary>
    public static string Scrub(string source) => GeneratedCodeVersion().Replace(source, "${prefix}<version>${suffix}");

    public static void Match(string name, string actual)
    {
        string path = Path.Combine(Directory, name + ".g.cs");
        string scrubbed = Scrub(actual);
        if (Updating)
        {
            File.WriteAllText(path, scrubbed, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
            return;
        }

        Assert.True(File.Exists(path), $"No approved snapshot at {path}. Run the tests with {UpdateVariable}=1 to write it, then review and commit it.");
        string approved = File.ReadAllText(path, Encoding.UTF8);
        if (approved == scrubbed)
        {
            return;
        }

        string[] expectedLines = approved.Split('\n');
        string[] actualLines = scrubbed.Split('\n');
        int line = 0;
        while (line < expectedLines.Length && line < actualLines.Length && expectedLines[line] == actualLines[line])
        {
            line++;
        }

        Assert.Fail(
            $"Generated source differs from the approved snapshot {path} at line {line + 1}:{Environment.NewLine}" +
            $"  approved: {(line < expectedLines.Length ? expectedLines[line] : "<end of file>")}{Environment.NewLine}" +
            $"  actual:   {(line < actualLines.Length ? actualLines[line] : "<end of file>")}{Environment.NewLine}" +
            $"If the change is intended, run the tests with {UpdateVariable}=1 and review the diff.");
    }

    [GeneratedRegex("""(?<prefix>GeneratedCode\("EdgeAe\.Generators", ")[^"]*(?<suffix>"\))""")]
    private static partial Regex GeneratedCodeVersion();
}
