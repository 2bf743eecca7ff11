using System.IO.Compression;
using System.Text;

namespace EdgeAe.Tests.Data;

/// <summary>A temporary directory of fixture files, deleted on dispose.</summary>
internal sealed class TempFiles : IDisposable
{
    public TempFiles()
    {
        Directory = System.IO.Directory.CreateTempSubdirectory("edgeae-data-").FullName;
    }

    public string Directory { get; }

    public string Path(string name) => System.IO.Path.Combine(Directory, name);

    public string Text(string name, string content) => Bytes(name, Encoding.UTF8.GetBytes(content));

    public string GzipText(string name, string content) => Bytes(name, Gzip(Encoding.UTF8.GetBytes(content)));

    public string Bytes(string name, byte[] content)
    {
        string path = Path(name);
        File.WriteAllBytes(path, content);
        return path;
    }

    public static byte[] Gzip(byte[] content)
    {
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.Fastest))
        {
            gzip.Write(content);
        }

        return buffer.ToArray();
    }

    public void Dispose()
    {
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temp directory is not worth failing a test for.
        }
    }
}
