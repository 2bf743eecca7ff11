using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace EdgeAe.Tests.Kernels;

/// <summary>
/// Which ISA rung the generated kernels take in this process. CI runs the kernel tests again with
/// DOTNET_EnableAVX512=0, DOTNET_EnableAVX2=0 and DOTNET_EnableHWIntrinsic=0; this checks each leg
/// really runs the rung it claims to.
/// </summary>
public sealed class IsaRungTests
{
    [Fact]
    public void The_active_rung_matches_the_environment()
    {
        string? hw = Environment.GetEnvironmentVariable("DOTNET_EnableHWIntrinsic");
        string? avx2 = Environment.GetEnvironmentVariable("DOTNET_EnableAVX2");
        string? avx512 = Environment.GetEnvironmentVariable("DOTNET_EnableAVX512");
        TestContext.Current.SendDiagnosticMessage($"rung: Vector512 {Vector512.IsHardwareAccelerated}, Vector256 {Vector256.IsHardwareAccelerated}, Vector128 {Vector128.IsHardwareAccelerated}, FMA {Fma.IsSupported}");
        if (hw == "0")
        {
            Assert.False(Vector128.IsHardwareAccelerated);
        }
        else if (avx2 == "0")
        {
            Assert.False(Vector256.IsHardwareAccelerated);
            Assert.False(Fma.IsSupported);
            Assert.True(Vector128.IsHardwareAccelerated);
        }
        else if (avx512 == "0")
        {
            Assert.False(Vector512.IsHardwareAccelerated);
            Assert.True(Vector256.IsHardwareAccelerated);
        }
        else
        {
            Assert.True(Vector128.IsHardwareAccelerated);
        }
    }
}
