namespace EdgeAe.IO;

/// <summary>
/// Writes a file so that readers only ever see the previous complete file or the new complete file:
/// the content goes to a temporary file in the same folder (<c>.&lt;name&gt;.&lt;random&gt;.tmp</c>), which is
/// flushed to disk and then renamed over the target. When writing fails at any point — an exception in
/// the caller's writer, a full disk, a cancelled command — the target is left exactly as it was and the
/// temporary file is removed. Temporaries left by a process that was killed during a save are removed
/// by the next save of the same target (only those no writer holds open).
/// </summary>
/// <remarks>
/// The temporary file is opened with <see cref="FileShare.None"/>, which on Linux and macOS takes an
/// advisory lock that other .NET processes respect: a temporary that can be opened the same way is not
/// being written and is stale.
/// </remarks>
public static class AtomicFile
{
    /// <summary>Writes <paramref name="path"/> atomically with the content <paramref name="write"/> puts into the stream.</summary>
    /// <param name="path">The file to create or replace; its folder must exist.</param>
    /// <param name="write">Writes the whole content. An exception from it abandons the write and is rethrown.</param>
    /// <exception cref="IOException">The folder is missing, is not a folder, or the file cannot be written or renamed.</exception>
    /// <exception cref="UnauthorizedAccessException">The folder or the target is not writable.</exception>
    public static void Write(string path, Action<Stream> write)
    {
        ArgumentNullException.ThrowIfNull(write);
        Write(path, write, OpenTemporary);
    }

    /// <summary>Writes <paramref name="bytes"/> to <paramref name="path"/> atomically.</summary>
    public static void WriteAllBytes(string path, ReadOnlySpan<byte> bytes)
    {
        byte[] copy = bytes.ToArray();
        Write(path, stream => stream.Write(copy));
    }

    /// <summary>Writes <paramref name="text"/> as UTF-8 (no byte-order mark) to <paramref name="path"/> atomically.</summary>
    public static void WriteAllText(string path, string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        Write(path, stream =>
        {
            using var writer = new StreamWriter(stream, new System.Text.UTF8Encoding(false), bufferSize: 1 << 16, leaveOpen: true);
            writer.Write(text);
        });
    }

    /// <summary>
    /// Checks, before any work, that <paramref name="path"/> can be written by <see cref="Write(string, Action{Stream})"/>:
    /// a non-empty path whose folder exists and is writable and which does not name a folder.
    /// Returns null when it can, else a sentence saying why not.
    /// </summary>
    public static string? ProblemWriting(string path) => ProblemWriting(path, createsFolders: false);

    /// <summary>
    /// Like <see cref="ProblemWriting(string)"/>; with <paramref name="createsFolders"/> the caller creates missing
    /// folders before writing, so a missing folder is fine when its nearest existing ancestor is a writable folder
    /// (not a file).
    /// </summary>
    public static string? ProblemWriting(string path, bool createsFolders)
    {
        if (string.IsNullOrWhiteSpace(path))
        {
            return "the path is empty";
        }

        string fullPath;
        try
        {
            fullPath = Path.GetFullPath(path);
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException or PathTooLongException)
        {
            return $"it is not a valid path ({e.Message})";
        }

        if (Directory.Exists(fullPath))
        {
            return "it is a folder";
        }

        string? folder = Path.GetDirectoryName(fullPath);
        if (folder is null || Path.GetFileName(fullPath).Length == 0)
        {
            return "it names no file";
        }

        if (!Directory.Exists(folder))
        {
            if (File.Exists(folder))
            {
                return $"'{folder}' is a file, not a folder";
            }

            if (!createsFolders)
            {
                return $"the folder '{folder}' does not exist";
            }

            // The folders will be created: the nearest existing ancestor must be a writable folder.
            string? ancestor = Path.GetDirectoryName(folder);
            while (ancestor is not null && !Directory.Exists(ancestor))
            {
                if (File.Exists(ancestor))
                {
                    return $"'{ancestor}' is a file, not a folder";
                }

                ancestor = Path.GetDirectoryName(ancestor);
            }

            if (ancestor is null)
            {
                return $"the folder '{folder}' cannot be created";
            }

            folder = ancestor;
        }

        // A probe file tells whether the folder is writable (permissions, read-only mounts, ACLs alike).
        string probe = Path.Combine(folder, $".{Path.GetFileName(fullPath)}.{Guid.NewGuid():N}.probe");
        try
        {
            using (new FileStream(probe, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.DeleteOnClose))
            {
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return $"the folder '{folder}' is not writable ({e.Message})";
        }

        return null;
    }

    /// <summary>
    /// The first half of <see cref="Write(string, Action{Stream})"/>: writes the content to a temporary file beside
    /// <paramref name="path"/> and flushes it to disk, but leaves <paramref name="path"/> as it is.
    /// <see cref="PreparedFile.Commit"/> then renames it over the target; disposing without committing removes it. For
    /// outputs that belong together: prepare each, so that a failure while writing any of them replaces none, then commit
    /// them one after the other (renames only, no writing in between).
    /// </summary>
    /// <exception cref="IOException">The folder is missing, is not a folder, or the temporary file cannot be written.</exception>
    /// <exception cref="UnauthorizedAccessException">The folder is not writable.</exception>
    public static PreparedFile Prepare(string path, Action<Stream> write)
    {
        ArgumentNullException.ThrowIfNull(write);
        return Prepare(path, write, OpenTemporary);
    }

    /// <summary>The write with an injectable way of opening the temporary file (tests make it fail part-way).</summary>
    internal static void Write(string path, Action<Stream> write, Func<string, Stream> openTemporary)
    {
        using PreparedFile prepared = Prepare(path, write, openTemporary);
        prepared.Commit();
    }

    /// <summary><see cref="Prepare(string, Action{Stream})"/> with an injectable way of opening the temporary file.</summary>
    internal static PreparedFile Prepare(string path, Action<Stream> write, Func<string, Stream> openTemporary)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string fullPath = Path.GetFullPath(path);
        if (Directory.Exists(fullPath))
        {
            throw new IOException($"Cannot write '{path}': it is a folder.");
        }

        string folder = Path.GetDirectoryName(fullPath) ?? throw new IOException($"Cannot write '{path}': it names no file.");
        if (!Directory.Exists(folder))
        {
            throw new IOException(File.Exists(folder)
                ? $"Cannot write '{path}': '{folder}' is a file, not a folder."
                : $"Cannot write '{path}': the folder '{folder}' does not exist.");
        }

        string name = Path.GetFileName(fullPath);
        RemoveStaleTemporaries(folder, name);
        string temporary = Path.Combine(folder, $".{name}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (Stream stream = openTemporary(temporary))
            {
                write(stream);
                if (stream is FileStream file)
                {
                    file.Flush(flushToDisk: true);
                }
                else
                {
                    stream.Flush();
                }
            }
        }
        catch
        {
            TryDelete(temporary);
            throw;
        }

        return new PreparedFile(fullPath, temporary);
    }

    /// <summary>Removes <c>.&lt;name&gt;.*.tmp</c> files in <paramref name="folder"/> that no writer holds open.</summary>
    internal static int RemoveStaleTemporaries(string folder, string name)
    {
        int removed = 0;
        string[] candidates;
        try
        {
            candidates = Directory.GetFiles(folder, $".{name}.*.tmp");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return 0;
        }

        foreach (string candidate in candidates)
        {
            string middle = Path.GetFileName(candidate)[(name.Length + 2)..^4];
            if (middle.Length != 32 || !Guid.TryParseExact(middle, "N", out _))
            {
                continue; // not one of ours
            }

            try
            {
                using (new FileStream(candidate, FileMode.Open, FileAccess.ReadWrite, FileShare.None))
                {
                }

                File.Delete(candidate);
                removed++;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Held open by a writer that is still running, or not ours to delete: leave it.
            }
        }

        return removed;
    }

    private static Stream OpenTemporary(string path)
        => new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 1 << 16);

    internal static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Best effort: the next save of the same target removes it.
        }
    }
}

/// <summary>
/// A file written and flushed to a temporary file beside its target (<see cref="AtomicFile.Prepare(string, Action{Stream})"/>),
/// not yet in place: <see cref="Commit"/> renames it over the target; <see cref="Dispose"/> without a commit removes it and
/// leaves the target as it was.
/// </summary>
public sealed class PreparedFile : IDisposable
{
    private readonly string _temporary;
    private bool _disposed;

    internal PreparedFile(string path, string temporary)
    {
        Path = path;
        _temporary = temporary;
    }

    /// <summary>The full path of the target.</summary>
    public string Path { get; }

    /// <summary>True once <see cref="Commit"/> has put the file in place.</summary>
    public bool IsCommitted { get; private set; }

    /// <summary>Renames the temporary file over the target (one rename: readers see the old or the new complete file).</summary>
    /// <exception cref="InvalidOperationException">Already committed or disposed.</exception>
    /// <exception cref="IOException">The rename failed; the target is as it was, the temporary file stays until disposal.</exception>
    /// <exception cref="UnauthorizedAccessException">The rename is not permitted.</exception>
    public void Commit()
    {
        if (IsCommitted || _disposed)
        {
            throw new InvalidOperationException($"The prepared file for '{Path}' was already {(IsCommitted ? "committed" : "disposed")}.");
        }

        File.Move(_temporary, Path, overwrite: true);
        IsCommitted = true;
    }

    /// <summary>Removes the temporary file unless it was committed.</summary>
    public void Dispose()
    {
        if (!_disposed && !IsCommitted)
        {
            AtomicFile.TryDelete(_temporary);
        }

        _disposed = true;
    }
}
