using System.Globalization;

namespace EdgeAe.Targets.Tests;

/// <summary>
/// Once per test run: `dotnet pack` EdgeAe with a version unique to this run into a temporary feed, then
/// build consumer projects that restore EdgeAe from that feed (never from project references):
/// <list type="bullet">
/// <item>Desktop: a console app that declares a model, trains a few steps and encodes (built and run);</item>
/// <item>Firmware: the nanoFramework recipe (netstandard2.0, NoStdLib, nanoFramework's mscorlib only);</item>
/// <item>FirmwareNoAnalyzers: the same with the package's analyzers excluded, as packages.config
///   projects get them (none): EdgeAe.targets must add the generator itself;</item>
/// <item>Broken: a declaration without [Code], whose build must fail with EAE0003 alone.</item>
/// </list>
/// Restores go to a global packages folder inside the temporary folder (other packages come from the
/// user's package folder as a fallback folder, or the normal feed), so no stale EdgeAe is ever used and
/// the user's NuGet cache is left as it was.
/// </summary>
public sealed class PackageFixture : IDisposable
{
    public const string NuGetOrg = "https://api.nuget.org/v3/index.json";

    public PackageFixture()
    {
        Folder = DotNet.CreateIsolatedFolder("package");
        Feed = Path.Combine(Folder, "feed");
        Version = string.Create(CultureInfo.InvariantCulture, $"1.0.0-test.{DateTime.UtcNow:yyyyMMddHHmmss}.{Environment.ProcessId}");

        Pack = DotNet.Build("pack", Folder, Path.Combine(DotNet.RepositoryRoot, "src", "EdgeAe", "EdgeAe.csproj"),
            "-c", "Release", "-o", Feed, "--artifacts-path", Path.Combine(Folder, "pack-artifacts"), $"-p:Version={Version}");
        if (Pack.ExitCode != 0)
        {
            return;
        }

        WriteNuGetConfig();
        WriteConsumers();
        string solution = Path.Combine(Folder, "consumers.slnx");
        File.WriteAllText(solution, """
            <Solution>
              <Project Path="Desktop/Desktop.csproj" />
              <Project Path="Firmware/Firmware.csproj" />
              <Project Path="FirmwareNoAnalyzers/FirmwareNoAnalyzers.csproj" />
            </Solution>
            """);
        Build = DotNet.Build("build", Folder, solution);
        if (Build.ExitCode == 0)
        {
            DesktopRun = DotNet.Run(Folder, OutputOf("Desktop", "net10.0"));
        }

        BrokenBuild = DotNet.Build("build", Folder, Path.Combine(Folder, "Broken", "Broken.csproj"));
        CompilerGuard = DotNet.Build("build", Folder, Path.Combine(Folder, "Broken", "Broken.csproj"), "-p:_EdgeAeMinimumCompilerVersion=99.0");
    }

    public string Folder { get; }

    public string Feed { get; }

    public string Version { get; }

    public string Package => Path.Combine(Feed, $"EdgeAe.{Version}.nupkg");

    public ProcessResult Pack { get; }

    public ProcessResult? Build { get; }

    public ProcessResult? DesktopRun { get; }

    public ProcessResult? BrokenBuild { get; }

    /// <summary>The broken consumer again, with the minimum compiler raised to 99.0: EAECFG0001, and the generator removed.</summary>
    public ProcessResult? CompilerGuard { get; }

    public string OutputOf(string project, string framework)
        => Path.Combine(Folder, project, "bin", "Debug", framework, project + ".dll");

    public void Dispose() => DotNet.DeleteQuietly(Folder);

    private void WriteNuGetConfig()
    {
        string userPackages = Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } configured
            ? configured
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        File.WriteAllText(Path.Combine(Folder, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <config>
                <add key="globalPackagesFolder" value="{Path.Combine(Folder, "packages")}" />
              </config>
              <fallbackPackageFolders>
                <clear />
                <add key="user" value="{userPackages}" />
              </fallbackPackageFolders>
              <packageSources>
                <clear />
                <add key="local" value="{Feed}" />
                <add key="nuget.org" value="{NuGetOrg}" />
              </packageSources>
              <packageSourceMapping>
                <packageSource key="local">
                  <package pattern="EdgeAe" />
                </packageSource>
                <packageSource key="nuget.org">
                  <package pattern="*" />
                </packageSource>
              </packageSourceMapping>
            </configuration>
            """);
    }

    private void WriteConsumers()
    {
        Write("Desktop/Desktop.csproj", $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <TargetFramework>net10.0</TargetFramework>
                <OutputType>Exe</OutputType>
                <Nullable>enable</Nullable>
                <ImplicitUsings>enable</ImplicitUsings>
                <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="EdgeAe" Version="{Version}" />
              </ItemGroup>
            </Project>
            """);
        Write("Desktop/Program.cs", """
            using System.Globalization;
            using EdgeAe;

            var model = new Consumer.Tiny();
            float[] sample = [0f, 0.25f, 0.5f, 0.75f, 1f, 0.75f, 0.5f, 0.25f];
            float before = model.Evaluate(sample, sample);
            float after = before;
            for (int step = 0; step < 200; step++)
            {
                after = model.TrainStep(sample, 0.5f);
            }

            after = model.Evaluate(sample, sample);
            var code = new float[Consumer.Tiny.CodeSize];
            model.Encode(sample, code);
            IAutoencoder contract = model;
            Console.WriteLine($"parameters {contract.Parameters.Length}");
            Console.WriteLine($"loss before {before.ToString("R", CultureInfo.InvariantCulture)} after {after.ToString("R", CultureInfo.InvariantCulture)}");
            Console.WriteLine("code " + string.Join(' ', code.Select(c => c.ToString("R", CultureInfo.InvariantCulture))));

            namespace Consumer
            {
                [Autoencoder(Input = 8, Loss = Loss.BinaryCrossEntropy, Seed = 3)]
                [Code(3, Activation.Sigmoid)]
                [Output(Activation.Sigmoid)]
                public partial class Tiny;
            }
            """);

        foreach ((string name, string assets) in new[] { ("Firmware", ""), ("FirmwareNoAnalyzers", " ExcludeAssets=\"analyzers\"") })
        {
            Write($"{name}/{name}.csproj", $"""
                <Project Sdk="Microsoft.NET.Sdk">
                  <PropertyGroup>
                    <TargetFramework>netstandard2.0</TargetFramework>
                    <NoStdLib>true</NoStdLib>
                    <NoCompilerStandardLib>true</NoCompilerStandardLib>
                    <DisableImplicitFrameworkReferences>true</DisableImplicitFrameworkReferences>
                    <GenerateAssemblyInfo>false</GenerateAssemblyInfo>
                    <GenerateTargetFrameworkAttribute>false</GenerateTargetFrameworkAttribute>
                    <LangVersion>latest</LangVersion>
                    <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
                    <EdgeAeTarget>NanoFramework</EdgeAeTarget>
                  </PropertyGroup>
                  <ItemGroup>
                    <PackageReference Include="EdgeAe" Version="{Version}"{assets} />
                    <PackageReference Include="nanoFramework.CoreLibrary" Version="1.17.11" ExcludeAssets="all" GeneratePathProperty="true" NoWarn="NU1701" />
                    <Reference Include="mscorlib">
                      <HintPath>$(PkgnanoFramework_CoreLibrary)/lib/mscorlib.dll</HintPath>
                      <Private>false</Private>
                    </Reference>
                  </ItemGroup>
                </Project>
                """);
            Write($"{name}/Sensor.cs", $$"""
                using EdgeAe;

                namespace {{name}}
                {
                    [Autoencoder(Input = 8, Loss = Loss.SquaredError, Seed = 2, OnDeviceTraining = true)]
                    [Encoder(6, Activation.Tanh)]
                    [Code(2, Activation.Linear)]
                    [Output(Activation.Linear)]
                    public partial class SensorAe
                    {
                    }

                    public static class Program
                    {
                        public static void Main()
                        {
                            var model = new SensorAe();
                            var reading = new float[SensorAe.InputSize];
                            var code = new float[SensorAe.CodeSize];
                            float loss = model.TrainStep(reading, 0.01f);
                            model.Encode(reading, code);
                            System.Diagnostics.Debug.WriteLine("loss " + loss.ToString() + " code " + code[0].ToString());
                        }
                    }
                }
                """);
        }

        Write("Broken/Broken.csproj", $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <TargetFramework>net10.0</TargetFramework>
                <Nullable>enable</Nullable>
                <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="EdgeAe" Version="{Version}" />
              </ItemGroup>
            </Project>
            """);
        Write("Broken/Model.cs", """
            using EdgeAe;

            namespace Consumer;

            // No [Code] layer: EAE0003, and no half-generated type to pile CS errors on.
            [Autoencoder(Input = 8)]
            [Output(Activation.Sigmoid)]
            public partial class NoCode;
            """);
    }

    private void Write(string relativePath, string text)
    {
        string path = Path.Combine(Folder, relativePath);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
    }
}
