using System.Diagnostics;
using System.Globalization;
using EdgeAe.IO;

namespace EdgeAe.Cli.Files;

/// <summary>
/// An exclusive lock on a command's output for the whole run: <c>&lt;out&gt;.lock</c> beside it, opened with
/// <see cref="FileShare.None"/> (an advisory <c>flock</c> on Linux and macOS that every .NET process honours, a
/// sharing lock on Windows). A second run on the same output fails at once naming the holder. The operating system
/// drops the lock when its process dies, so the lock file a crashed run leaves behind is stale and taken over;
/// a normal exit removes it. Folders the lock had to create are removed again when nothing else was written in them.
/// </summary>
internal sealed class OutputLock : IDisposable
{
    private readonly FileStream _file;
    private readonly List<string> _createdFolders;

    private OutputLock(string path, FileStream file, List<string> createdFolders, string? staleHolder)
    {
        Path = path;
        _file = file;
        _createdFolders = createdFolders;
        StaleHolder = staleHolder;
    }

    /// <summary>The lock file.</summary>
    public string Path { get; }

    /// <summary>Who held a lock file that was found stale and taken over (a crashed or killed run), or null.</summary>
    public string? StaleHolder { get; }

    /// <summary>The lock file that protects <paramref name="output"/>.</summary>
    public static string PathFor(string output) => System.IO.Path.GetFullPath(output) + ".lock";

    /// <summary>Takes the lock of <paramref name="output"/>; a one-line error when another run holds it.</summary>
    public static OutputLock Acquire(string output, string option)
    {
        string path = PathFor(output);
        List<string> created = CreateFolders(System.IO.Path.GetDirectoryName(path)!);
        for (int attempt = 0; ; attempt++)
        {
            string? previous = File.Exists(path) ? Holder(path) : null;
            FileStream file;
            try
            {
                file = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, bufferSize: 1);
            }
            catch (IOException e) when (File.Exists(path))
            {
                RemoveEmpty(created);
                string holder = previous is null ? "" : $" by {previous}";
                throw new CliException($"another edgeae run is writing {output} (its lock {path} is held{holder}); wait for it to finish or choose another {option}", inner: e);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                RemoveEmpty(created);
                throw new CliException($"cannot lock {output}: {e.Message}", inner: e);
            }

            // The previous holder may have removed the file between our open and our lock: then we hold an orphan.
            if (!FileIdentity.IsFileAt(file.SafeFileHandle, path))
            {
                file.Dispose();
                if (attempt < 10)
                {
                    continue;
                }

                RemoveEmpty(created);
                throw new CliException($"cannot lock {output}: its lock file {path} keeps changing");
            }

            // A non-empty lock file that could be locked was left by a run that did not finish (crashed or killed).
            string? stale = file.Length > 0 ? previous ?? "an earlier run" : null;
            file.SetLength(0);
            using (var writer = new StreamWriter(file, leaveOpen: true))
            {
                writer.Write(string.Create(CultureInfo.InvariantCulture, $"process {Environment.ProcessId} since {DateTime.UtcNow:yyyy-MM-dd HH:mm:ss} UTC\n"));
            }

            file.Flush();
            return new OutputLock(path, file, created, stale);
        }
    }

    /// <summary>Removes the lock file while still holding the lock, then releases it.</summary>
    public void Dispose()
    {
        try
        {
            File.Delete(Path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A leftover lock file is stale once released; the next run takes it over.
        }

        _file.Dispose();
        RemoveEmpty(_createdFolders);
    }

    /// <summary>The holder written into a lock file ("process 1234 since …"), when it can be read.</summary>
    private static string? Holder(string path)
    {
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using var reader = new StreamReader(stream);
            string? line = reader.ReadLine();
            return string.IsNullOrWhiteSpace(line) ? null : line.Trim();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>Creates <paramref name="folder"/> and its missing parents; returns those it created, deepest first.</summary>
    private static List<string> CreateFolders(string folder)
    {
        var missing = new List<string>();
        for (string? f = folder; f is not null && !Directory.Exists(f); f = System.IO.Path.GetDirectoryName(f))
        {
            missing.Add(f);
        }

        try
        {
            Directory.CreateDirectory(folder);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliException($"cannot create the folder {folder}: {e.Message}", inner: e);
        }

        return missing;
    }

    private static void RemoveEmpty(List<string> folders)
    {
        foreach (string folder in folders)
        {
            try
            {
                if (Directory.Exists(folder) && !Directory.EnumerateFileSystemEntries(folder).Any())
                {
                    Directory.Delete(folder);
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                Debug.WriteLine($"edgeae: could not remove the empty folder {folder}: {e.Message}");
            }
        }
    }
}
