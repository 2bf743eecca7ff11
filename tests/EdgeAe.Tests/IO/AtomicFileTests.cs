using System.Text;
using EdgeAe.IO;

namespace EdgeAe.Tests.IO;

/// <summary>Atomic writes keep the previous file on any failure; stale temporaries go; same-file detection sees through links.</summary>
public sealed class AtomicFileTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("edgeae-atomicfile-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private string PathOf(string name) => Path.Combine(_folder, name);

    [Fact]
    public void A_write_replaces_the_content()
    {
        string path = PathOf("out.csv");
        AtomicFile.WriteAllText(path, "old");
        AtomicFile.WriteAllText(path, "new ✓");
        Assert.Equal("new ✓", File.ReadAllText(path));
        Assert.Equal(["out.csv"], Directory.GetFiles(_folder).Select(Path.GetFileName));
        Assert.False(File.ReadAllBytes(path).AsSpan().StartsWith(Encoding.UTF8.Preamble), "no byte-order mark");
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(5000)]
    public void A_writer_that_throws_half_way_leaves_the_previous_file_exactly(int bytesBeforeFailure)
    {
        string path = PathOf("recon.csv");
        AtomicFile.WriteAllText(path, "1,2,3\n4,5,6\n");
        byte[] before = File.ReadAllBytes(path);

        var e = Assert.Throws<InvalidDataException>(() => AtomicFile.Write(path, stream =>
        {
            stream.Write(new byte[bytesBeforeFailure]);
            throw new InvalidDataException("bad packet at index 1000");
        }));

        Assert.Equal("bad packet at index 1000", e.Message);
        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.Equal(["recon.csv"], Directory.GetFiles(_folder).Select(Path.GetFileName));
    }

    [Fact]
    public void A_prepared_file_replaces_its_target_only_when_committed()
    {
        string path = PathOf("Model.cs");
        AtomicFile.WriteAllText(path, "old");
        using (PreparedFile prepared = AtomicFile.Prepare(path, s => s.Write("new"u8)))
        {
            // Written and flushed beside the target, which is untouched until the commit.
            Assert.Equal("old", File.ReadAllText(path));
            Assert.Equal(2, Directory.GetFiles(_folder).Length);
            prepared.Commit();
            Assert.True(prepared.IsCommitted);
            Assert.Equal(Path.GetFullPath(path), prepared.Path);
            Assert.Throws<InvalidOperationException>(prepared.Commit);
        }

        Assert.Equal("new", File.ReadAllText(path));
        Assert.Equal(["Model.cs"], Directory.GetFiles(_folder).Select(Path.GetFileName));

        // Disposed without a commit: the temporary file goes, the target stays.
        using (AtomicFile.Prepare(path, s => s.Write("abandoned"u8)))
        {
        }

        Assert.Equal("new", File.ReadAllText(path));
        Assert.Equal(["Model.cs"], Directory.GetFiles(_folder).Select(Path.GetFileName));

        // A writer that throws leaves nothing behind, as in Write.
        Assert.Throws<InvalidDataException>(() => AtomicFile.Prepare(path, _ => throw new InvalidDataException("no")));
        Assert.Equal(["Model.cs"], Directory.GetFiles(_folder).Select(Path.GetFileName));
    }

    [Fact]
    public void A_failing_disk_leaves_the_previous_file()
    {
        string path = PathOf("codes.bin");
        AtomicFile.WriteAllBytes(path, [1, 2, 3]);
        Assert.Throws<IOException>(() => AtomicFile.Write(path, s => s.Write(new byte[100]), p => new FullDiskStream(File.Create(p), 10)));
        Assert.Equal([1, 2, 3], File.ReadAllBytes(path));
        Assert.Single(Directory.GetFiles(_folder));
    }

    [Fact]
    public void A_folder_or_a_missing_parent_is_refused_before_writing()
    {
        Directory.CreateDirectory(PathOf("sub"));
        Assert.Contains("is a folder", Assert.Throws<IOException>(() => AtomicFile.WriteAllText(PathOf("sub"), "x")).Message);
        Assert.Contains("does not exist", Assert.Throws<IOException>(() => AtomicFile.WriteAllText(PathOf("missing/x.csv"), "x")).Message);
        File.WriteAllText(PathOf("file"), "x");
        Assert.Contains("is a file, not a folder", Assert.Throws<IOException>(() => AtomicFile.WriteAllText(PathOf("file/x.csv"), "x")).Message);

        Assert.Equal("it is a folder", AtomicFile.ProblemWriting(PathOf("sub")));
        Assert.Contains("does not exist", AtomicFile.ProblemWriting(PathOf("missing/x.csv")));
        Assert.Contains("is a file, not a folder", AtomicFile.ProblemWriting(PathOf("file/x.csv")));
        Assert.Equal("the path is empty", AtomicFile.ProblemWriting(""));
        Assert.Null(AtomicFile.ProblemWriting(PathOf("fine.csv")));
        Assert.False(File.Exists(PathOf("fine.csv")), "the check writes nothing");
    }

    [Fact]
    public void A_caller_that_creates_folders_may_name_a_missing_one_whose_ancestor_is_a_writable_folder()
    {
        File.WriteAllText(PathOf("file"), "x");
        Assert.Null(AtomicFile.ProblemWriting(PathOf("missing/deeper/x.csv"), createsFolders: true));
        Assert.False(Directory.Exists(PathOf("missing")), "the check creates nothing");
        Assert.Contains("is a file, not a folder", AtomicFile.ProblemWriting(PathOf("file/deeper/x.csv"), createsFolders: true));
        if (OperatingSystem.IsLinux())
        {
            Assert.Contains("is not writable", AtomicFile.ProblemWriting("/proc/missing/x.csv", createsFolders: true));
        }
    }

    [Fact]
    public void A_handle_is_the_file_at_its_path_until_the_path_is_removed_or_replaced()
    {
        string path = PathOf("held.lock");
        using var held = new FileStream(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.Delete);
        Assert.True(FileIdentity.IsFileAt(held.SafeFileHandle, path));
        Assert.True(FileIdentity.IsFileAt(held.SafeFileHandle, Path.Combine(_folder, ".", "held.lock")));
        File.Delete(path);
        Assert.False(FileIdentity.IsFileAt(held.SafeFileHandle, path));
        File.WriteAllText(path, "another file at the same path");
        Assert.Equal(!OperatingSystem.IsLinux(), FileIdentity.IsFileAt(held.SafeFileHandle, path));
    }

    [Fact]
    public void A_read_only_folder_is_named_by_the_check()
    {
        if (OperatingSystem.IsWindows())
        {
            Assert.Skip("Unix permissions");
            return;
        }

        if (Environment.UserName == "root")
        {
            Assert.Skip("root writes into read-only folders; the check cannot fail here");
        }

        string folder = PathOf("ro");
        Directory.CreateDirectory(folder);
        File.SetUnixFileMode(folder, UnixFileMode.UserRead | UnixFileMode.UserExecute);
        try
        {
            Assert.Contains("not writable", AtomicFile.ProblemWriting(Path.Combine(folder, "x.eaw")));
        }
        finally
        {
            File.SetUnixFileMode(folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }

    [Fact]
    public void Stale_temporaries_of_the_same_target_are_removed_and_held_ones_kept()
    {
        string path = PathOf("model.eaw");
        string stale = PathOf($".model.eaw.{Guid.NewGuid():N}.tmp");
        string held = PathOf($".model.eaw.{Guid.NewGuid():N}.tmp");
        string other = PathOf($".other.eaw.{Guid.NewGuid():N}.tmp");
        string notOurs = PathOf(".model.eaw.backup.tmp");
        foreach (string p in new[] { stale, held, other, notOurs })
        {
            File.WriteAllBytes(p, new byte[1000]);
        }

        using (new FileStream(held, FileMode.Open, FileAccess.Write, FileShare.None))
        {
            AtomicFile.WriteAllText(path, "x");
        }

        Assert.False(File.Exists(stale));
        Assert.True(File.Exists(held), "a temporary some writer holds open is not stale");
        Assert.True(File.Exists(other), "another target's temporaries are left alone");
        Assert.True(File.Exists(notOurs));
    }

    [Fact]
    public void Same_file_sees_through_relative_paths_and_links()
    {
        string path = PathOf("data.csv");
        File.WriteAllText(path, "1,2");
        Assert.True(FileIdentity.SameFile(path, Path.Combine(_folder, ".", "data.csv")));
        Assert.True(FileIdentity.SameFile(path, Path.Combine(_folder, "sub", "..", "data.csv")));
        Assert.False(FileIdentity.SameFile(path, PathOf("other.csv")));
        Assert.True(FileIdentity.SameFile(PathOf("future.csv"), PathOf("./future.csv")), "outputs that do not exist yet compare by path");

        string link = PathOf("link.csv");
        File.CreateSymbolicLink(link, path);
        Assert.True(FileIdentity.SameFile(link, path));

        Directory.CreateDirectory(PathOf("real"));
        Directory.CreateSymbolicLink(PathOf("alias"), PathOf("real"));
        File.WriteAllText(PathOf("real/x.csv"), "1");
        Assert.True(FileIdentity.SameFile(PathOf("alias/x.csv"), PathOf("real/x.csv")));
        Assert.True(FileIdentity.SameFile(PathOf("alias/new.csv"), PathOf("real/new.csv")), "a link in the folder part counts before the file exists");
    }

    [Fact]
    public void Same_file_sees_hard_links_on_linux()
    {
        if (!OperatingSystem.IsLinux())
        {
            Assert.Skip("inode comparison is Linux-only");
        }

        string path = PathOf("a.bin");
        File.WriteAllText(path, "x");
        string hard = PathOf("b.bin");
        using (var ln = System.Diagnostics.Process.Start("ln", [path, hard]))
        {
            ln.WaitForExit();
        }

        Assert.True(File.Exists(hard));
        Assert.True(FileIdentity.SameFile(path, hard));
    }

    /// <summary>A stream that throws like a full disk after <c>capacity</c> bytes.</summary>
    private sealed class FullDiskStream(Stream inner, int capacity) : Stream
    {
        private int _written;

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => _written;

        public override long Position { get => _written; set => throw new NotSupportedException(); }

        public override void Flush() => inner.Flush();

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count)
        {
            if (_written + count > capacity)
            {
                throw new IOException("No space left on device");
            }

            inner.Write(buffer, offset, count);
            _written += count;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
