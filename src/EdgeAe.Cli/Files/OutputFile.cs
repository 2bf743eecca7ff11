using System.Text;
using EdgeAe.IO;

namespace EdgeAe.Cli.Files;

/// <summary>
/// Every file a command writes goes through here: missing folders are created, the content is written atomically by
/// <see cref="AtomicFile"/> (a temporary file flushed to disk, then renamed over the target), so a command that fails
/// or is killed part-way leaves the previous file exactly as it was; I/O errors become one-line errors.
/// </summary>
internal static class OutputFile
{
    /// <summary>Writes <paramref name="path"/> with what <paramref name="write"/> puts into the stream; an exception from it leaves the old file.</summary>
    public static void Write(string path, Action<Stream> write)
    {
        try
        {
            CreateFolderOf(path);
            AtomicFile.Write(path, write);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliException($"cannot write {path}: {e.Message}", inner: e);
        }
    }

    /// <summary>
    /// Creates the folder of <paramref name="path"/> when it is missing, for writers outside this class (the weight files'
    /// own atomic save, which wants the folder to exist), so that every command's output may name a new folder.
    /// </summary>
    public static void CreateFolderOf(string path)
    {
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliException($"cannot write {path}: {e.Message}", inner: e);
        }
    }

    /// <summary>Writes UTF-8 text (no byte-order mark) line by line.</summary>
    public static void WriteText(string path, Action<TextWriter> write)
        => Write(path, stream =>
        {
            using var writer = new StreamWriter(stream, new UTF8Encoding(false), bufferSize: 1 << 16, leaveOpen: true);
            write(writer);
        });

    /// <summary>Renders <paramref name="plot"/> as a PNG and writes it.</summary>
    public static void WritePng(string path, ScottPlot.Plot plot, int width, int height)
    {
        byte[] png = plot.GetImageBytes(width, height, ScottPlot.ImageFormat.Png);
        Write(path, stream => stream.Write(png));
    }
}
