using System.Text;

namespace EdgeAe.Benchmarks;

/// <summary>
/// TorchSharp-cpu 0.107.0's libLibTorchSharp.so needs GLIBCXX_3.4.32 for one unused symbol; Debian 12's
/// libstdc++ stops at 3.4.30. Marking that version-need entry weak (VER_FLG_WEAK) in the copy in this
/// program's output lets it load (RECIPES.md). The NuGet cache is never touched.
/// </summary>
internal static class TorchLoader
{
    private const uint ShtGnuVerneed = 0x6ffffffe;
    private const ushort VerFlgWeak = 0x2;

    public static void PatchOutputCopies()
    {
        foreach (string path in Directory.EnumerateFiles(AppContext.BaseDirectory, "libLibTorchSharp.so", SearchOption.AllDirectories))
        {
            Patch(path, "GLIBCXX_3.4.32");
        }
    }

    private static void Patch(string path, string version)
    {
        byte[] f = File.ReadAllBytes(path);
        if (f.Length < 64 || f[0] != 0x7f || f[1] != (byte)'E' || f[4] != 2)
        {
            return;
        }

        long shoff = BitConverter.ToInt64(f, 0x28);
        int shentsize = BitConverter.ToUInt16(f, 0x3A);
        int shnum = BitConverter.ToUInt16(f, 0x3C);
        bool changed = false;
        for (int s = 0; s < shnum; s++)
        {
            long sh = shoff + s * shentsize;
            if (BitConverter.ToUInt32(f, (int)sh + 4) != ShtGnuVerneed)
            {
                continue;
            }

            long offset = BitConverter.ToInt64(f, (int)sh + 24);
            int link = (int)BitConverter.ToUInt32(f, (int)sh + 40);
            int count = (int)BitConverter.ToUInt32(f, (int)sh + 44);
            long strtab = BitConverter.ToInt64(f, (int)(shoff + link * shentsize) + 24);
            long vn = offset;
            for (int n = 0; n < count; n++)
            {
                int auxCount = BitConverter.ToUInt16(f, (int)vn + 2);
                long aux = vn + BitConverter.ToUInt32(f, (int)vn + 8);
                for (int k = 0; k < auxCount; k++)
                {
                    long name = strtab + BitConverter.ToUInt32(f, (int)aux + 8);
                    int end = Array.IndexOf(f, (byte)0, (int)name);
                    if (Encoding.ASCII.GetString(f, (int)name, end - (int)name) == version)
                    {
                        ushort flags = BitConverter.ToUInt16(f, (int)aux + 4);
                        if ((flags & VerFlgWeak) == 0)
                        {
                            BitConverter.GetBytes((ushort)(flags | VerFlgWeak)).CopyTo(f, (int)aux + 4);
                            changed = true;
                        }
                    }

                    aux += BitConverter.ToUInt32(f, (int)aux + 12);
                }

                vn += BitConverter.ToUInt32(f, (int)vn + 12);
            }
        }

        if (changed)
        {
            File.WriteAllBytes(path, f);
        }
    }
}
