using System.IO.Compression;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;

namespace EdgeAe.Targets.Tests;

/// <summary>The EdgeAe package as a consumer gets it from a feed: its layout, and projects built against it.</summary>
public sealed class PackageTests(PackageFixture package) : IClassFixture<PackageFixture>
{
    [Fact]
    public void Pack_succeeds_without_warnings()
    {
        TestContext.Current.TestOutputHelper?.WriteLine(string.Join(", ",
            new[] { ("pack", package.Pack), ("build consumers", package.Build), ("run desktop", package.DesktopRun), ("build broken", package.BrokenBuild), ("build with guard", package.CompilerGuard) }
                .Select(p => $"{p.Item1} {p.Item2?.Elapsed.TotalSeconds:F1} s")));
        Assert.True(package.Pack.ExitCode == 0, package.Pack.ToString());
        Assert.True(package.Pack.WarningLines.Count == 0, package.Pack.ToString());
    }

    [Fact]
    public void Package_layout_has_runtime_in_lib_generator_in_analyzers_and_targets_in_build_and_buildTransitive()
    {
        Assert.True(package.Pack.ExitCode == 0, package.Pack.ToString());
        using ZipArchive zip = ZipFile.OpenRead(package.Package);
        string[] entries = zip.Entries.Select(e => e.FullName).ToArray();

        foreach (string expected in new[]
                 {
                     "lib/net10.0/EdgeAe.dll", "lib/net10.0/EdgeAe.xml",
                     "analyzers/dotnet/cs/EdgeAe.Generators.dll",
                     "build/EdgeAe.props", "build/EdgeAe.targets",
                     "buildTransitive/EdgeAe.props", "buildTransitive/EdgeAe.targets",
                     "README.md", "LICENSE", "EdgeAe.nuspec",
                 })
        {
            Assert.Contains(expected, entries);
        }

        Assert.DoesNotContain(entries, e => e.StartsWith("lib/", StringComparison.Ordinal) && e.EndsWith("EdgeAe.Generators.dll", StringComparison.Ordinal));
        Assert.Single(entries, e => e.EndsWith(".dll", StringComparison.Ordinal) && e.StartsWith("analyzers/", StringComparison.Ordinal));

        // No package dependencies: the generator and the Roslyn packages it was built against are private.
        string nuspec = new StreamReader(zip.GetEntry("EdgeAe.nuspec")!.Open()).ReadToEnd();
        Assert.DoesNotContain("<dependency ", nuspec, StringComparison.Ordinal);
        Assert.Contains("<license type=\"expression\">MIT</license>", nuspec, StringComparison.Ordinal);
        Assert.Contains("<readme>README.md</readme>", nuspec, StringComparison.Ordinal);
    }

    [Fact]
    public void Consumers_restored_from_the_package_build_without_warnings()
    {
        ProcessResult build = package.Build ?? throw new InvalidOperationException(package.Pack.ToString());
        Assert.True(build.ExitCode == 0, build.ToString());
        Assert.True(build.WarningLines.Count == 0, build.ToString());
        Assert.True(File.Exists(Path.Combine(package.Folder, "packages", "edgeae", package.Version, "analyzers", "dotnet", "cs", "EdgeAe.Generators.dll")),
            "EdgeAe was not restored from the test's own feed into the test's own packages folder");
    }

    [Fact]
    public void Desktop_consumer_trains_and_encodes()
    {
        ProcessResult run = package.DesktopRun ?? throw new InvalidOperationException(package.Build?.ToString() ?? package.Pack.ToString());
        Assert.True(run.ExitCode == 0, run.ToString());
        string[] loss = run.Lines.Single(l => l.StartsWith("loss before ", StringComparison.Ordinal)).Split(' ');
        float before = float.Parse(loss[2], System.Globalization.CultureInfo.InvariantCulture);
        float after = float.Parse(loss[4], System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(after < before, run.ToString());
        Assert.Equal(3, run.Lines.Single(l => l.StartsWith("code ", StringComparison.Ordinal)).Split(' ').Length - 1);
    }

    [Theory]
    [InlineData("Firmware")]
    [InlineData("FirmwareNoAnalyzers")]
    public void Firmware_consumer_compiles_against_nanoFrameworks_mscorlib_alone(string project)
    {
        ProcessResult build = package.Build ?? throw new InvalidOperationException(package.Pack.ToString());
        Assert.True(build.ExitCode == 0, build.ToString());

        using var pe = new PEReader(File.OpenRead(package.OutputOf(project, "netstandard2.0")));
        MetadataReader metadata = pe.GetMetadataReader();
        Assert.Equal(["mscorlib"], metadata.AssemblyReferences.Select(h => metadata.GetString(metadata.GetAssemblyReference(h).Name)));

        // The generated members exist, so the generator ran (for FirmwareNoAnalyzers: added by EdgeAe.targets).
        TypeDefinition sensor = metadata.TypeDefinitions.Select(metadata.GetTypeDefinition)
            .Single(t => metadata.GetString(t.Name) == "SensorAe");
        string[] methods = sensor.GetMethods().Select(h => metadata.GetString(metadata.GetMethodDefinition(h).Name)).ToArray();
        Assert.Contains("Encode", methods);
        Assert.Contains("TrainStep", methods);
    }

    [Fact]
    public void Broken_declaration_fails_with_the_generator_diagnostic_and_no_compiler_errors()
    {
        ProcessResult build = package.BrokenBuild ?? throw new InvalidOperationException(package.Pack.ToString());
        Assert.NotEqual(0, build.ExitCode);
        Assert.Contains(build.ErrorLines, l => l.Contains("error EAE0003:", StringComparison.Ordinal) && l.Contains("Model.cs", StringComparison.Ordinal));
        Assert.DoesNotContain(build.ErrorLines, l => l.Contains("error CS", StringComparison.Ordinal));
    }

    [Fact]
    public void Too_old_a_compiler_disables_the_generator_with_EAECFG0001()
    {
        ProcessResult guard = package.CompilerGuard ?? throw new InvalidOperationException(package.Pack.ToString());
        Assert.Contains(guard.WarningLines, l => l.Contains("warning EAECFG0001: The EdgeAe source generator needs C# compiler (Roslyn) 99.0 or newer", StringComparison.Ordinal));

        // The generator did not run: no EAE0003 for the broken declaration, and the attributes it would have emitted are missing.
        Assert.DoesNotContain("EAE0003", guard.Output, StringComparison.Ordinal);
        Assert.Contains(guard.ErrorLines, l => l.Contains("error CS0246:", StringComparison.Ordinal) && l.Contains("Autoencoder", StringComparison.Ordinal));
    }
}
