using System.Runtime.InteropServices;

namespace EdgeAe.IO;

/// <summary>
/// Tells whether two paths name the same file: the same full path after resolving symbolic links (so
/// <c>./x</c>, <c>x</c> and a link to <c>x</c> agree) or, on Linux, the same device and inode (hard links).
/// Commands use it to refuse an output that would overwrite one of their inputs.
/// </summary>
public static partial class FileIdentity
{
    /// <summary>True when <paramref name="first"/> and <paramref name="second"/> name the same existing or future file.</summary>
    public static bool SameFile(string first, string second)
    {
        ArgumentNullException.ThrowIfNull(first);
        ArgumentNullException.ThrowIfNull(second);
        string a = Canonical(first), b = Canonical(second);
        StringComparison comparison = OperatingSystem.IsWindows() || OperatingSystem.IsMacOS() ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;
        if (string.Equals(a, b, comparison))
        {
            return true;
        }

        return TryInode(a, out (ulong Device, ulong Inode) x) && TryInode(b, out (ulong Device, ulong Inode) y) && x == y;
    }

    /// <summary>
    /// The full path with every symbolic link along it resolved (the file itself need not exist: links in the
    /// existing part of the path are still resolved).
    /// </summary>
    public static string Canonical(string path)
    {
        string full = Path.GetFullPath(path);
        string? folder = Path.GetDirectoryName(full);
        string name = Path.GetFileName(full);
        if (folder is null)
        {
            return full; // a root
        }

        string resolvedFolder = Canonical(folder);
        string combined = name.Length == 0 ? resolvedFolder : Path.Combine(resolvedFolder, name);
        for (int hops = 0; hops < 40; hops++)
        {
            FileSystemInfo info = new FileInfo(combined);
            if (!info.Exists && Directory.Exists(combined))
            {
                info = new DirectoryInfo(combined);
            }

            string? target;
            try
            {
                target = info.LinkTarget;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return combined;
            }

            if (target is null)
            {
                return combined;
            }

            string parent = Path.GetDirectoryName(combined) ?? combined;
            combined = Path.GetFullPath(Path.IsPathRooted(target) ? target : Path.Combine(parent, target));
            string? nextFolder = Path.GetDirectoryName(combined);
            if (nextFolder is not null)
            {
                combined = Path.Combine(Canonical(nextFolder), Path.GetFileName(combined));
            }
        }

        return combined; // a link loop: compare what we have
    }

    /// <summary>
    /// True when the open <paramref name="handle"/> is the file that <paramref name="path"/> names now (same device and
    /// inode on Linux; elsewhere, true when the path exists). A lock holder uses it to tell whether its lock file was
    /// replaced or removed after it opened it.
    /// </summary>
    public static bool IsFileAt(Microsoft.Win32.SafeHandles.SafeFileHandle handle, string path)
    {
        ArgumentNullException.ThrowIfNull(handle);
        ArgumentNullException.ThrowIfNull(path);
        if (!OperatingSystem.IsLinux())
        {
            return File.Exists(path);
        }

        Span<byte> buffer = stackalloc byte[256];
        bool added = false;
        try
        {
            handle.DangerousAddRef(ref added);
            if (FStat((int)handle.DangerousGetHandle(), ref MemoryMarshal.GetReference(buffer)) != 0)
            {
                return false;
            }
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return File.Exists(path);
        }
        finally
        {
            if (added)
            {
                handle.DangerousRelease();
            }
        }

        (ulong Device, ulong Inode) open = (BitConverter.ToUInt64(buffer), BitConverter.ToUInt64(buffer[8..]));
        return TryInode(Path.GetFullPath(path), out (ulong Device, ulong Inode) named) && named == open;
    }

    private static bool TryInode(string path, out (ulong Device, ulong Inode) id)
    {
        id = default;
        if (!OperatingSystem.IsLinux() || !File.Exists(path))
        {
            return false;
        }

        // struct stat on Linux x64 and arm64 (glibc ≥ 2.33 exports stat itself) starts with
        // 8-byte st_dev and 8-byte st_ino; the rest of the 144- or 128-byte struct is not read.
        Span<byte> buffer = stackalloc byte[256];
        try
        {
            if (Stat(path, ref MemoryMarshal.GetReference(buffer)) != 0)
            {
                return false;
            }
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }

        id = (BitConverter.ToUInt64(buffer), BitConverter.ToUInt64(buffer[8..]));
        return true;
    }

    [LibraryImport("libc", EntryPoint = "stat", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Stat(string path, ref byte buffer);

    [LibraryImport("libc", EntryPoint = "fstat")]
    private static partial int FStat(int descriptor, ref byte buffer);
}
