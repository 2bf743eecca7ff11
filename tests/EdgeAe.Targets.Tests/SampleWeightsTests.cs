namespace EdgeAe.Targets.Tests;

/// <summary>
/// The samples bake <c>Weights = "digits.eaw"</c> from <c>-p:DigitsWeights</c>: a weight file they cannot bake is one
/// clear SAMPLE error, not EAE0017 followed by an error on every use of the model.
/// </summary>
public sealed class SampleWeightsTests : IDisposable
{
    private readonly string _folder = DotNet.CreateIsolatedFolder("sample-weights");

    public void Dispose() => DotNet.DeleteQuietly(_folder);

    [Fact]
    public void A_weight_file_of_another_name_is_one_error_that_says_to_name_it_digits_eaw()
    {
        // The samples' comments offered -p:DigitsWeights=other.eaw, which failed with EAE0017 and six CS errors.
        string other = Path.Combine(_folder, "other.eaw");
        File.WriteAllBytes(other, new byte[16]); // refused by its name, before the generator reads it
        string project = Path.Combine(DotNet.RepositoryRoot, "targets", "samples", "DigitsFirmware", "DigitsFirmware.csproj");

        ProcessResult build = DotNet.Build("build", _folder, project, "--artifacts-path", Path.Combine(_folder, "artifacts"), $"-p:DigitsWeights={other}");

        Assert.True(build.ExitCode != 0, build.ToString());
        string error = Assert.Single(build.ErrorLines);
        Assert.Contains("error SAMPLE0002", error, StringComparison.Ordinal);
        Assert.Contains($"'{other}' is not named digits.eaw", error, StringComparison.Ordinal);
    }
}
