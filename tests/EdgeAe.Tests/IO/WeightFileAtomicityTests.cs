using EdgeAe.Data;
using EdgeAe.IO;
using EdgeAe.Tests.Models;
using static EdgeAe.Tests.IO.WeightFileTestKit;

namespace EdgeAe.Tests.IO;

/// <summary>A failed save leaves the previous file as it was and no temporary file behind.</summary>
public sealed class WeightFileAtomicityTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("edgeae-atomic-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    public static TheoryData<int> FailurePoints => new(0, 1, 11, 12, 100, 1000, 4000);

    [Theory]
    [MemberData(nameof(FailurePoints))]
    public void A_save_that_fails_after_n_bytes_leaves_the_previous_file_intact(int failAfter)
    {
        string path = Path.Combine(_folder, "model.eaw");
        WeightFile.Save(path, Randomized<DigitsAe>(1), Normalization.None);
        byte[] previous = File.ReadAllBytes(path);

        WeightFileException e = Assert.Throws<WeightFileException>(
            () => WeightFile.Save(path, Randomized<DigitsAe>(2), Normalization.ScaleBy(16, 64), p => new FailingStream(File.Create(p), failAfter)));

        Assert.Equal(WeightFileErrorReason.Io, e.Reason);
        Assert.Contains("model.eaw", e.Message);
        Assert.Equal(previous, File.ReadAllBytes(path));
        Assert.Equal(["model.eaw"], Directory.GetFiles(_folder).Select(Path.GetFileName));
    }

    [Fact]
    public void A_save_whose_temporary_file_cannot_be_opened_leaves_the_previous_file_intact()
    {
        string path = Path.Combine(_folder, "model.eaw");
        WeightFile.Save(path, Randomized<DigitsAe>(1), Normalization.None);
        byte[] previous = File.ReadAllBytes(path);

        WeightFileException e = Assert.Throws<WeightFileException>(
            () => WeightFile.Save(path, Randomized<DigitsAe>(2), Normalization.None, _ => throw new UnauthorizedAccessException("denied")));

        Assert.Equal(WeightFileErrorReason.Io, e.Reason);
        Assert.Equal(previous, File.ReadAllBytes(path));
        Assert.Equal(["model.eaw"], Directory.GetFiles(_folder).Select(Path.GetFileName));
    }

    [Fact]
    public void A_model_with_a_NaN_weight_is_not_saved()
    {
        string path = Path.Combine(_folder, "model.eaw");
        WeightFile.Save(path, Randomized<DigitsAe>(1), Normalization.None);
        byte[] previous = File.ReadAllBytes(path);
        DigitsAe model = Randomized<DigitsAe>(2);
        model.Parameters[DigitsAe.Topology.Layers[1].BiasOffset + 5] = float.NaN;

        WeightFileException e = Assert.Throws<WeightFileException>(() => WeightFile.Save(path, model, Normalization.None));

        Assert.Equal(WeightFileErrorReason.NonFiniteWeight, e.Reason);
        Assert.Contains("weight NaN in layer 1 (output) b[5]", e.Message);
        Assert.Equal(previous, File.ReadAllBytes(path));
    }

    [Fact]
    public void Saving_into_a_missing_folder_is_a_clear_error()
    {
        string folder = Path.Combine(_folder, "missing");
        WeightFileException e = Assert.Throws<WeightFileException>(() => WeightFile.Save(Path.Combine(folder, "m.eaw"), new DigitsAe(), Normalization.None));
        Assert.Equal(WeightFileErrorReason.Io, e.Reason);
        Assert.Contains($"the folder '{folder}' does not exist", e.Message);
        Assert.False(Directory.Exists(folder));
    }

    [Fact]
    public void Loading_a_missing_file_is_an_io_error_and_leaves_the_model_untouched()
    {
        var model = new DigitsAe();
        int[] before = Bits(model.Parameters);
        WeightFileException e = Assert.Throws<WeightFileException>(() => WeightFile.Load(Path.Combine(_folder, "nope.eaw"), model));
        Assert.Equal(WeightFileErrorReason.Io, e.Reason);
        Assert.Contains("nope.eaw", e.Message);
        Assert.Equal(before, Bits(model.Parameters));
    }

    /// <summary>Passes writes through until <c>failAfter</c> bytes have been written, then throws like a full disk.</summary>
    private sealed class FailingStream(Stream inner, int failAfter) : Stream
    {
        private long _written;

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => _written;

        public override long Position { get => _written; set => throw new NotSupportedException(); }

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            int allowed = (int)Math.Min(buffer.Length, Math.Max(0, failAfter - _written));
            inner.Write(buffer[..allowed]);
            _written += allowed;
            if (allowed < buffer.Length)
            {
                inner.Flush();
                throw new IOException($"No space left on device (after {_written} bytes).");
            }
        }

        public override void Flush() => inner.Flush();

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

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
