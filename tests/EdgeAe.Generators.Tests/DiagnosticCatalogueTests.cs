using System.Reflection;
using System.Text.RegularExpressions;

namespace EdgeAe.Generators.Tests;

/// <summary>
/// docs/diagnostics.md and the analyzer release files describe exactly the generator's descriptors:
/// every ID has a section with its severity and message, and every ID is shipped or listed as unshipped.
/// </summary>
public sealed class DiagnosticCatalogueTests
{
    private static readonly string RepositoryRoot = typeof(DiagnosticCatalogueTests).Assembly
        .GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "EdgeAe.RepositoryRoot").Value!;

    private static string Read(params string[] path) => File.ReadAllText(Path.Combine([RepositoryRoot, .. path]));

    [Fact]
    public void Every_descriptor_has_a_section_with_its_severity_and_message_in_docs_diagnostics_md()
    {
        string catalogue = Read("docs", "diagnostics.md");
        foreach (Microsoft.CodeAnalysis.DiagnosticDescriptor descriptor in DiagnosticDescriptors.All)
        {
            Match section = Regex.Match(catalogue, $@"^## {descriptor.Id}\n(?<body>.*?)(?=^## |\z)", RegexOptions.Multiline | RegexOptions.Singleline);
            Assert.True(section.Success, $"docs/diagnostics.md has no '## {descriptor.Id}' section");
            string body = section.Groups["body"].Value;
            Assert.Contains($"**{descriptor.DefaultSeverity}.**", body, StringComparison.Ordinal);
            Assert.Contains($"`{descriptor.MessageFormat}`", body, StringComparison.Ordinal);
            Assert.Contains("**Fix:**", body, StringComparison.Ordinal);
            Assert.Contains($"| [{descriptor.Id}](#{descriptor.Id.ToLowerInvariant()}) | {descriptor.Title} |", catalogue, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Docs_diagnostics_md_lists_no_generator_id_that_does_not_exist()
    {
        string[] documented = Regex.Matches(Read("docs", "diagnostics.md"), @"^## (EAE\d{4})$", RegexOptions.Multiline).Select(m => m.Groups[1].Value).ToArray();
        Assert.Equal(DiagnosticDescriptors.All.Select(d => d.Id), documented);
    }

    [Fact]
    public void Every_descriptor_is_shipped_in_release_1_0_or_unshipped_and_the_docs_state_both_ranges()
    {
        string shipped = Read("generators", "EdgeAe.Generators", "AnalyzerReleases.Shipped.md");
        string unshipped = Read("generators", "EdgeAe.Generators", "AnalyzerReleases.Unshipped.md");
        string[] shippedIds = Ids(shipped);
        string[] unshippedIds = Ids(unshipped);

        // Shipped IDs first, the new ones after them: IDs are never reused or renumbered.
        Assert.Equal(DiagnosticDescriptors.All.Select(d => d.Id), shippedIds.Concat(unshippedIds));
        foreach (Microsoft.CodeAnalysis.DiagnosticDescriptor descriptor in DiagnosticDescriptors.All)
        {
            string release = shippedIds.Contains(descriptor.Id) ? shipped : unshipped;
            Assert.Contains($"{descriptor.Id} | {descriptor.Category} | {descriptor.DefaultSeverity} | {descriptor.Title}", release, StringComparison.Ordinal);
        }

        Assert.Contains("## Release 1.0", shipped, StringComparison.Ordinal);
        string docs = Read("docs", "diagnostics.md").ReplaceLineEndings(" ");
        Assert.Contains($"(release 1.0: EAE0001–{shippedIds[^1]})", docs, StringComparison.Ordinal);
        if (unshippedIds.Length > 0)
        {
            Assert.Contains($"(not yet released: {unshippedIds[0]}–{unshippedIds[^1]})", docs, StringComparison.Ordinal);
        }
        else
        {
            Assert.DoesNotContain("not yet released", docs, StringComparison.Ordinal);
        }
    }

    /// <summary>The rule IDs a release file lists, in order.</summary>
    private static string[] Ids(string releases)
        => Regex.Matches(releases, @"^(EAE\d{4}) \|", RegexOptions.Multiline).Select(m => m.Groups[1].Value).ToArray();
}
