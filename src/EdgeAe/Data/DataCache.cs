using System.Buffers.Binary;
using System.IO.MemoryMappedFiles;
using System.Numerics;
using System.Runtime.InteropServices;
using System.Text;
using EdgeAe.IO;
using Microsoft.Win32.SafeHandles;

namespace EdgeAe.Data;

/// <summary>What is wrong with a <c>.f32</c> data cache.</summary>
public enum DataCacheProblem
{
    /// <summary>The file does not start with the cache's magic bytes.</summary>
    NotACache,

    /// <summary>A version this library does not read.</summary>
    UnsupportedVersion,

    /// <summary>The file is shorter than its header says.</summary>
    Truncated,

    /// <summary>A checksum (header, block table or a block of samples) does not match: the file was changed or damaged.</summary>
    ChecksumMismatch,

    /// <summary>The header holds impossible values, or the file is longer than its header says.</summary>
    Corrupt,
}

/// <summary>How a <see cref="DataCache"/> brings a block of samples into memory.</summary>
public enum DataCacheAccess
{
    /// <summary>
    /// Positional reads (pread) of each block into a buffer the cache owns, reused block after block: one copy from
    /// the page cache, no page faults. The default: in a virtual machine it costs an eighth of a mapping's page faults.
    /// </summary>
    Read,

    /// <summary>
    /// A memory-mapped view (System.IO.MemoryMappedFiles) per block, released when its slot is reused: no copy, but
    /// the pages are faulted in (on Linux populated in one call) and unmapped again every epoch.
    /// </summary>
    Map,
}

/// <summary>A <c>.f32</c> data cache that cannot be read, naming the file and the problem.</summary>
public sealed class DataCacheException(string filePath, DataCacheProblem problem, string message)
    : Exception($"{filePath}: {message}")
{
    /// <summary>The cache file.</summary>
    public string FilePath { get; } = filePath;

    /// <summary>The kind of problem.</summary>
    public DataCacheProblem Problem { get; } = problem;
}

/// <summary>
/// A binary float32 data cache (docs/data-cache.md): samples already normalised, with the normalisation, the shape and
/// CRC-32 checksums in the file, read one block at a time (<see cref="DataCacheAccess"/>: positional reads into owned
/// buffers, or memory-mapped views) so that only the blocks in use are resident. <c>edgeae prepare</c> writes it
/// (<see cref="Write"/>); the trainer reads it like a <see cref="Dataset"/>.
/// </summary>
/// <remarks>
/// Each block's checksum is verified the first time the block is read after <see cref="Open"/> (one CRC-32C pass,
/// about 0.2 ms per 1 MiB block); the header and the block table are verified on open. At most
/// <see cref="MappedBlocksLimit"/> blocks are held at a time; the oldest is released first. Not thread-safe: one reader
/// at a time, except for samples <see cref="Hold"/> made resident, which several threads may read at once.
/// </remarks>
public sealed unsafe class DataCache : ISampleSource, IDisposable
{
    /// <summary>The conventional file extension.</summary>
    public const string Extension = ".f32";

    /// <summary>The version this library writes and reads.</summary>
    public const int Version = 1;

    /// <summary>Bytes of samples per checksum block (and per mapping): 1 MiB, at least one sample.</summary>
    public const int BlockBytes = 1 << 20;

    /// <summary>Bytes of samples a shuffle window holds by default when training from a cache: 64 MiB.</summary>
    public const long DefaultWindowBytes = 64L << 20;

    /// <summary>The magic bytes: "EAF32", then CR LF and Ctrl-Z (text-mode transfers show up as a bad magic).</summary>
    internal static ReadOnlySpan<byte> Magic => "EAF32\r\n\x1A"u8;

    /// <summary>Bytes of the fixed part of the header (magic … table offset).</summary>
    internal const int FixedHeaderBytes = 56;

    /// <summary>The data starts at a multiple of this many bytes.</summary>
    internal const int Alignment = 64;

    private readonly MemoryMappedFile? _mapping;
    private readonly SafeFileHandle? _handle;
    private readonly uint[] _blockCrc;
    private readonly bool[] _verified;
    private readonly int[] _slotOfBlock;
    private MappedBlock[] _slots;
    private int _nextSlot;
    private bool _disposed;
    private BlockReadAhead? _readAhead;
    private int[]? _requestedIn;
    private int _readAheadCalls;

    private DataCache(string path, DataCacheAccess access, CacheHeader header, uint[] blockCrc)
    {
        FilePath = path;
        Access = access;
        if (access == DataCacheAccess.Map)
        {
            _mapping = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
        }
        else
        {
            _handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        }

        Count = header.Count;
        Width = header.Width;
        BlockSamples = header.BlockSamples;
        Normalization = header.Normalization;
        Minimum = header.Minimum;
        Maximum = header.Maximum;
        DataOffset = header.DataOffset;
        _blockCrc = blockCrc;
        _verified = new bool[blockCrc.Length];
        _slotOfBlock = new int[blockCrc.Length];
        Array.Fill(_slotOfBlock, -1);
        _slots = NewSlots(DefaultMappedBlocks(Width, Count));
    }

    /// <summary>How blocks are brought into memory.</summary>
    public DataCacheAccess Access { get; }

    /// <summary>The cache file as opened.</summary>
    public string FilePath { get; }

    /// <summary>Number of samples.</summary>
    public int Count { get; }

    /// <summary>Floats per sample.</summary>
    public int Width { get; }

    /// <summary>Samples per checksum block (the last block may hold fewer).</summary>
    public int BlockSamples { get; }

    /// <summary>The normalisation the samples were mapped with (train stores it in the weight file).</summary>
    public Normalization Normalization { get; }

    /// <summary>The smallest value in the cache (after normalisation).</summary>
    public float Minimum { get; }

    /// <summary>The largest value in the cache (after normalisation).</summary>
    public float Maximum { get; }

    /// <summary>Byte offset of the first sample.</summary>
    internal long DataOffset { get; }

    /// <summary>Number of checksum blocks.</summary>
    public int Blocks => _blockCrc.Length;

    /// <summary>The most blocks held at a time (memory held: about this × <see cref="BlockBytes"/>).</summary>
    public int MappedBlocksLimit => _slots.Length;

    /// <summary>Blocks held now.</summary>
    internal int MappedBlocks => _slots.Count(m => m.Block >= 0 && (m.View is not null || m.Buffer is not null));

    /// <summary>Samples per block for samples of <paramref name="width"/> floats: 1 MiB of them, at least one.</summary>
    public static int BlockSamplesFor(int width) => Math.Max(1, BlockBytes / (width * sizeof(float)));

    /// <summary>Samples a shuffle window holds by default when training from a cache: 64 MiB of them, whole blocks.</summary>
    public int DefaultWindowSamples => (int)Math.Min(Count, Math.Max(1, DefaultWindowBytes / ((long)BlockSamples * Width * sizeof(float))) * BlockSamples);

    /// <summary>Sample <paramref name="index"/>, valid until the next call on this cache.</summary>
    public ReadOnlySpan<float> this[int index]
    {
        get
        {
            if ((uint)index >= (uint)Count)
            {
                throw new ArgumentOutOfRangeException(nameof(index), index, $"The cache has {Count} samples.");
            }

            int block = index / BlockSamples;
            int slot = _slotOfBlock[block];
            if (slot < 0)
            {
                slot = Map(block);
            }

            ref readonly MappedBlock held = ref _slots[slot];
            int offset = (index - (block * BlockSamples)) * Width;
            return held.Buffer is { } buffer
                ? new ReadOnlySpan<float>(buffer, offset, Width)
                : new ReadOnlySpan<float>(held.Pointer + ((long)offset * sizeof(float)), Width);
        }
    }

    /// <summary>
    /// Keeps up to as many blocks mapped as two shuffle windows of <paramref name="windowSamples"/> samples touch (a batch
    /// may straddle two windows), so that a window's blocks are mapped once per epoch.
    /// </summary>
    public void ReserveWindow(int windowSamples, int shuffleBlockSamples)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(windowSamples);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(shuffleBlockSamples);
        long shuffleBlocks = (windowSamples + (long)shuffleBlockSamples - 1) / shuffleBlockSamples;
        // A shuffle block of whole cache blocks touches exactly those; any other straddles one more at most.
        long perShuffleBlock = shuffleBlockSamples % BlockSamples == 0
            ? shuffleBlockSamples / BlockSamples
            : ((shuffleBlockSamples + (long)BlockSamples - 1) / BlockSamples) + 1;
        int limit = (int)Math.Clamp(2 * shuffleBlocks * perShuffleBlock, 2, Math.Max(2, Blocks));
        if (limit != _slots.Length)
        {
            ReleaseAll();
            _slots = NewSlots(limit);
            _nextSlot = 0;
        }
    }

    /// <summary>
    /// Asks for the blocks that <paramref name="samples"/> lie in to be read ahead on a thread of the cache's own, in
    /// the order they first occur, so that reading them later waits neither for the disk nor for their checksums: every
    /// block is announced to the operating system's file cache (Linux) at once; a cache that reads gets each block read
    /// into a buffer there (checksummed unless verified before), which its read of the block then takes instead of
    /// reading, up to <see cref="BlockReadAhead.ReadyLimit"/> blocks ahead; a mapped cache gets the blocks not verified
    /// yet checksummed there. Blocks held now are skipped; samples are best asked for in the order they will be read.
    /// What the read-ahead finds wrong is not reported by it: the block stays unverified and its own read throws as
    /// without read-ahead. Allocates nothing on the calling thread after the first call (which starts the thread).
    /// </summary>
    public void ReadAhead(ReadOnlySpan<int> samples)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        _readAhead ??= new BlockReadAhead(this, _blockCrc, _verified, fill: _handle is not null);
        _requestedIn ??= new int[Blocks];
        int call = ++_readAheadCalls;
        foreach (int index in samples)
        {
            if ((uint)index >= (uint)Count)
            {
                throw new ArgumentOutOfRangeException(nameof(samples), index, $"The cache has {Count} samples.");
            }

            int block = index / BlockSamples;
            if (_requestedIn[block] != call && _slotOfBlock[block] < 0)
            {
                _requestedIn[block] = call;
                _readAhead.Request(block);
            }
        }
    }

    /// <summary>
    /// Brings in the blocks of <paramref name="samples"/> that are not held, and returns whether all of them are held
    /// afterwards (false when they are more blocks than <see cref="MappedBlocksLimit"/>). While they are, until the next
    /// call that brings a block in (<see cref="this[int]"/> of a sample not held, <see cref="Hold"/>,
    /// <see cref="VerifyAll"/>), any number of threads may read those samples at once: reading a held sample changes
    /// nothing. The trainer's worker threads copy their shards' samples so.
    /// </summary>
    public bool Hold(ReadOnlySpan<int> samples)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        foreach (int index in samples)
        {
            _ = this[index];
        }

        foreach (int index in samples)
        {
            if (_slotOfBlock[index / BlockSamples] < 0)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Blocks the read-ahead has read and checksummed so far.</summary>
    internal int BlocksVerifiedAhead => _readAhead?.BlocksVerified ?? 0;

    /// <summary>Blocks the read-ahead has read into buffers for this cache's reads so far.</summary>
    internal int BlocksReadyAhead => _readAhead?.BlocksReady ?? 0;

    /// <summary>Blocks brought in from the read-ahead's buffers instead of read on the calling thread.</summary>
    internal int BlocksTakenAhead => _readAhead?.BlocksTaken ?? 0;

    /// <summary>Releases every block (the next read brings it in again) and the read buffers.</summary>
    public void ReleaseAll()
    {
        for (int s = 0; s < _slots.Length; s++)
        {
            Unmap(s);
            _slots[s] = new MappedBlock(-1, null, null, null);
        }
    }

    /// <summary>Verifies every block's checksum now (reads the whole file once); throws on the first mismatch.</summary>
    public void VerifyAll()
    {
        for (int b = 0; b < Blocks; b++)
        {
            if (!_verified[b])
            {
                Map(b);
            }
        }
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _readAhead?.Dispose();
        ReleaseAll();
        _mapping?.Dispose();
        _handle?.Dispose();
    }

    /// <summary>True when <paramref name="path"/> starts with the cache's magic bytes.</summary>
    public static bool IsCache(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1);
        Span<byte> head = stackalloc byte[8];
        return stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false) == head.Length && head.SequenceEqual(Magic);
    }

    /// <summary>Opens the cache at <paramref name="path"/>, checking its header and block table.</summary>
    /// <param name="path">The cache file.</param>
    /// <param name="access">How blocks are brought into memory.</param>
    /// <exception cref="DataCacheException">Not a cache, an unsupported version, truncated, or a checksum mismatch.</exception>
    public static DataCache Open(string path, DataCacheAccess access = DataCacheAccess.Read)
    {
        ArgumentNullException.ThrowIfNull(path);
        CacheHeader header;
        uint[] table;
        using (var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 12))
        {
            header = CacheHeader.Read(stream, path);
            long blocks = header.BlockCount;
            long expected = header.TableOffset + (4 * blocks) + 4;
            if (stream.Length < expected)
            {
                throw new DataCacheException(path, DataCacheProblem.Truncated, FormattableString.Invariant(
                    $"the file is truncated: it holds {stream.Length} bytes but its header describes {header.Count} samples of {header.Width} floats ({expected} bytes)"));
            }

            if (stream.Length > expected)
            {
                throw new DataCacheException(path, DataCacheProblem.Corrupt, FormattableString.Invariant(
                    $"the file holds {stream.Length} bytes, {stream.Length - expected} more than its header describes ({expected})"));
            }

            var bytes = new byte[(4 * blocks) + 4];
            stream.Position = header.TableOffset;
            stream.ReadExactly(bytes);
            if (Crc32.Final(Crc32.Update(Crc32.Initial, bytes.AsSpan(0, bytes.Length - 4))) != BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(bytes.Length - 4)))
            {
                throw new DataCacheException(path, DataCacheProblem.ChecksumMismatch, "the checksum of the block table does not match: the file was changed or damaged");
            }

            table = new uint[blocks];
            for (int b = 0; b < table.Length; b++)
            {
                table[b] = BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(4 * b));
            }
        }

        return new DataCache(path, access, header, table);
    }

    /// <summary>
    /// Writes a cache to <paramref name="path"/> atomically (<see cref="AtomicFile"/>): <paramref name="produce"/> adds
    /// the raw samples one at a time (they are written to the temporary file as they come, so memory does not grow with
    /// the data), then <paramref name="choose"/> picks the normalisation from their statistics (a standardisation's
    /// second pass reads the temporary file back), then every sample is normalised in place and checksummed.
    /// </summary>
    /// <returns>The number of samples and the normalisation written.</returns>
    /// <exception cref="ArgumentException">A sample holds NaN/∞, before or after normalisation, or there are no samples.</exception>
    /// <param name="path">The cache to write.</param>
    /// <param name="width">Floats per sample, or null to take the first sample's length.</param>
    /// <param name="produce">Adds the raw samples.</param>
    /// <param name="choose">Chooses the normalisation once every sample was added.</param>
    public static (int Count, Normalization Normalization) Write(string path, int? width, Action<DataCacheWriter> produce, Func<DataCacheStatistics, Normalization> choose)
    {
        ArgumentNullException.ThrowIfNull(produce);
        ArgumentNullException.ThrowIfNull(choose);
        if (width is <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(width), width, "The width must be positive.");
        }

        if (!BitConverter.IsLittleEndian)
        {
            throw new PlatformNotSupportedException("The .f32 cache is written as little-endian float32 on little-endian machines only.");
        }

        (int Count, Normalization Normalization) result = default;
        AtomicFile.Write(path, stream => result = WriteTo((FileStream)stream, width, produce, choose),
            temporary => new FileStream(temporary, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, bufferSize: 1 << 16));
        return result;
    }

    private static (int, Normalization) WriteTo(FileStream stream, int? expectedWidth, Action<DataCacheWriter> produce, Func<DataCacheStatistics, Normalization> choose)
    {
        var writer = new DataCacheWriter(stream, expectedWidth ?? 0);
        produce(writer);
        writer.Flush();
        if (writer.Count == 0)
        {
            throw new ArgumentException("There are no samples to write.");
        }

        int width = writer.Width;
        long dataOffset = CacheHeader.DataOffsetFor(width);

        var statistics = new DataCacheStatistics(stream, dataOffset, writer);
        Normalization normalization = choose(statistics);
        if (normalization.Kind != NormalizationKind.None && normalization.Width != width)
        {
            throw new ArgumentException($"The normalisation describes {normalization.Width} features but the samples have {width}.");
        }

        // Normalise in place, block by block: checksums, and the range for a binary cross-entropy model's check.
        int blockSamples = BlockSamplesFor(width);
        int count = writer.Count;
        int blocks = (count + blockSamples - 1) / blockSamples;
        var table = new byte[(4 * blocks) + 4];
        var buffer = new float[blockSamples * width];
        float min = float.PositiveInfinity, max = float.NegativeInfinity;
        for (int b = 0; b < blocks; b++)
        {
            int n = Math.Min(blockSamples, count - (b * blockSamples));
            Span<byte> bytes = MemoryMarshal.AsBytes(buffer.AsSpan(0, n * width));
            long position = dataOffset + ((long)b * blockSamples * width * sizeof(float));
            stream.Position = position;
            stream.ReadExactly(bytes);
            for (int s = 0; s < n; s++)
            {
                Span<float> sample = buffer.AsSpan(s * width, width);
                normalization.Apply(sample);
                for (int i = 0; i < width; i++)
                {
                    float v = sample[i];
                    if (!float.IsFinite(v))
                    {
                        throw new ArgumentException(FormattableString.Invariant(
                            $"Sample {(b * blockSamples) + s + 1}, feature {i + 1} becomes {v} after the normalisation; every value must be finite."));
                    }

                    min = Math.Min(min, v);
                    max = Math.Max(max, v);
                }
            }

            BinaryPrimitives.WriteUInt32LittleEndian(table.AsSpan(4 * b), BlockCrc32.Of(bytes));
            stream.Position = position;
            stream.Write(bytes);
        }

        long tableOffset = dataOffset + ((long)count * width * sizeof(float));
        BinaryPrimitives.WriteUInt32LittleEndian(table.AsSpan(4 * blocks), Crc32.Final(Crc32.Update(Crc32.Initial, table.AsSpan(0, 4 * blocks))));
        stream.Position = tableOffset;
        stream.Write(table);
        stream.SetLength(tableOffset + table.Length);
        stream.Position = 0;
        stream.Write(new CacheHeader(count, width, blockSamples, normalization, min, max, dataOffset, tableOffset).ToBytes());
        return (count, normalization);
    }

    private static MappedBlock[] NewSlots(int count)
    {
        var slots = new MappedBlock[count];
        Array.Fill(slots, new MappedBlock(-1, null, null, null));
        return slots;
    }

    /// <summary>Samples per block by default, and mappings kept by default (two default windows).</summary>
    private static int DefaultMappedBlocks(int width, int count)
    {
        long blockBytes = (long)BlockSamplesFor(width) * width * sizeof(float);
        long blocks = ((long)count + BlockSamplesFor(width) - 1) / BlockSamplesFor(width);
        return (int)Math.Clamp(2 * Math.Max(1, DefaultWindowBytes / blockBytes), 2, Math.Max(2, blocks));
    }

    private int Map(int block)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        int slot = _nextSlot;
        _nextSlot = (_nextSlot + 1) % _slots.Length;
        Unmap(slot);
        int first = block * BlockSamples;
        int n = Math.Min(BlockSamples, Count - first);
        (long position, int length) = Extent(block);
        ReadOnlySpan<byte> bytes;
        float[]? ahead = _readAhead?.Take(block);
        if (ahead is not null)
        {
            // Read and verified on the read-ahead thread: its buffer takes the slot, the slot's old buffer goes back to it.
            if (_slots[slot].Buffer is { } old)
            {
                _readAhead!.Return(old);
            }

            _slots[slot] = new MappedBlock(block, null, null, ahead);
            _slotOfBlock[block] = slot;
            return slot;
        }

        if (_handle is not null)
        {
            // The slot's buffer is kept when the block leaves it: a buffer per slot, allocated once.
            float[] buffer = _slots[slot].Buffer ?? new float[BlockSamples * Width];
            Span<byte> target = MemoryMarshal.AsBytes(buffer.AsSpan(0, n * Width));
            if (!ReadAt(_handle, target, position))
            {
                throw new DataCacheException(FilePath, DataCacheProblem.Truncated, FormattableString.Invariant(
                    $"the file ended inside block {block + 1} of {Blocks} (it was cut after it was opened)"));
            }

            _slots[slot] = new MappedBlock(block, null, null, buffer);
            bytes = target;
        }
        else
        {
            MemoryMappedViewAccessor view = _mapping!.CreateViewAccessor(position, length, MemoryMappedFileAccess.Read);
            byte* pointer = null;
            view.SafeMemoryMappedViewHandle.AcquirePointer(ref pointer);
            PageTables.Populate(pointer, view.PointerOffset + length);
            pointer += view.PointerOffset;
            _slots[slot] = new MappedBlock(block, view, pointer, null);
            bytes = new ReadOnlySpan<byte>(pointer, length);
        }

        _slotOfBlock[block] = slot;
        if (!Volatile.Read(ref _verified[block]))
        {
            if (BlockCrc32.Of(bytes) != _blockCrc[block])
            {
                Unmap(slot);
                throw new DataCacheException(FilePath, DataCacheProblem.ChecksumMismatch, FormattableString.Invariant(
                    $"the checksum of block {block + 1} of {Blocks} (samples {first + 1}–{first + n}) does not match: the file was changed or damaged; prepare it again"));
            }

            Volatile.Write(ref _verified[block], true);
        }

        return slot;
    }

    /// <summary>Where block <paramref name="block"/>'s samples are in the file, in bytes.</summary>
    internal (long Position, int Length) Extent(int block)
    {
        int first = block * BlockSamples;
        int n = Math.Min(BlockSamples, Count - first);
        return (DataOffset + ((long)first * Width * sizeof(float)), n * Width * sizeof(float));
    }

    /// <summary>Fills <paramref name="target"/> from <paramref name="position"/>; false when the file ends first.</summary>
    internal static bool ReadAt(SafeFileHandle handle, Span<byte> target, long position)
    {
        for (int done = 0; done < target.Length;)
        {
            int read = RandomAccess.Read(handle, target[done..], position + done);
            if (read == 0)
            {
                return false;
            }

            done += read;
        }

        return true;
    }

    private void Unmap(int slot)
    {
        MappedBlock held = _slots[slot];
        if (held.Block >= 0 && (held.View is not null || held.Buffer is not null))
        {
            _slotOfBlock[held.Block] = -1;
        }

        if (held.View is not null)
        {
            held.View.SafeMemoryMappedViewHandle.ReleasePointer();
            held.View.Dispose();
        }

        // A read buffer stays with its slot for the next block.
        _slots[slot] = new MappedBlock(-1, null, null, held.Buffer);
    }

    /// <summary>A slot: the block it holds (−1: none), as a mapped view or in the slot's buffer.</summary>
    private readonly struct MappedBlock(int block, MemoryMappedViewAccessor? view, byte* pointer, float[]? buffer)
    {
        public int Block { get; } = block;

        public MemoryMappedViewAccessor? View { get; } = view;

        public byte* Pointer { get; } = pointer;

        public float[]? Buffer { get; } = buffer;
    }
}

/// <summary>Adds raw samples to a cache being written (<see cref="DataCache.Write"/>).</summary>
public sealed class DataCacheWriter
{
    private readonly FileStream _file;
    private BufferedStream? _stream;

    /// <summary>A writer of samples of <paramref name="width"/> floats (0: as long as the first sample).</summary>
    internal DataCacheWriter(FileStream file, int width)
    {
        _file = file;
        Width = width;
    }

    /// <summary>Floats per sample (0 until the first sample when the width was left open).</summary>
    public int Width { get; private set; }

    /// <summary>Samples added so far.</summary>
    public int Count { get; private set; }

    /// <summary>The largest absolute value added so far.</summary>
    public float MaxAbsolute { get; private set; }

    internal StandardizeFit Sum { get; private set; } = null!;

    /// <summary>Adds one raw sample (normalised later, when the normalisation is chosen).</summary>
    /// <exception cref="ArgumentException">The sample has the wrong width or holds NaN/∞.</exception>
    public void Add(ReadOnlySpan<float> sample)
    {
        if (_stream is null)
        {
            // The first sample: the samples start after room for a header of this width (the largest normalisation).
            Width = Width == 0 ? sample.Length : Width;
            Sum = new StandardizeFit(Width);
            long dataOffset = CacheHeader.DataOffsetFor(Math.Max(1, Width));
            _file.SetLength(dataOffset);
            _file.Position = dataOffset;
            _stream = new BufferedStream(_file, 1 << 20);
        }

        if (sample.Length != Width)
        {
            throw new ArgumentException($"Expected {Width} values per sample but found {sample.Length}.", nameof(sample));
        }

        if (Count == int.MaxValue)
        {
            throw new ArgumentException($"A cache holds at most {int.MaxValue} samples.", nameof(sample));
        }

        float max = MaxAbsolute;
        for (int i = 0; i < sample.Length; i++)
        {
            if (!float.IsFinite(sample[i]))
            {
                throw new ArgumentException(FormattableString.Invariant($"Sample {Count + 1}, feature {i + 1} is {sample[i]}; every value must be finite."), nameof(sample));
            }

            max = Math.Max(max, Math.Abs(sample[i]));
        }

        MaxAbsolute = max;
        Sum.AddToSum(sample);
        _stream.Write(MemoryMarshal.AsBytes(sample));
        Count++;
    }

    internal void Flush() => _stream?.Flush();
}

/// <summary>What the normalisation of a cache being written is chosen from.</summary>
public sealed class DataCacheStatistics
{
    private readonly FileStream _stream;
    private readonly long _dataOffset;
    private readonly DataCacheWriter _writer;

    internal DataCacheStatistics(FileStream stream, long dataOffset, DataCacheWriter writer)
    {
        _stream = stream;
        _dataOffset = dataOffset;
        _writer = writer;
    }

    /// <summary>Number of samples.</summary>
    public int Count => _writer.Count;

    /// <summary>Floats per sample.</summary>
    public int Width => _writer.Width;

    /// <summary>The largest absolute raw value.</summary>
    public float MaxAbsolute => _writer.MaxAbsolute;

    /// <summary>
    /// The standardisation <see cref="Normalizer.FitStandardize"/> fits to the same samples, to the bit: the sums were
    /// taken as the samples came; the squared deviations take one more pass over the written samples.
    /// </summary>
    public Normalization FitStandardize()
    {
        StandardizeFit fit = _writer.Sum;
        fit.EndSum();
        int width = Width;
        int perRead = DataCache.BlockSamplesFor(width);
        var buffer = new float[perRead * width];
        _stream.Position = _dataOffset;
        for (int done = 0; done < Count; done += perRead)
        {
            int n = Math.Min(perRead, Count - done);
            _stream.ReadExactly(MemoryMarshal.AsBytes(buffer.AsSpan(0, n * width)));
            for (int s = 0; s < n; s++)
            {
                fit.AddSquaredDeviations(buffer.AsSpan(s * width, width));
            }
        }

        return fit.Result();
    }
}

/// <summary>
/// The header of a cache (little-endian): magic (8), version (4), header bytes = data offset (4), samples (8), width (4),
/// block samples (4), normalisation kind (4), minimum (4), maximum (4), reserved (4), table offset (8); then, unless the
/// kind is none, width offsets and width scales (float32); then the CRC-32 of everything before it; zero padding to the
/// data offset, a multiple of 64.
/// </summary>
internal readonly record struct CacheHeader(int Count, int Width, int BlockSamples, Normalization Normalization, float Minimum, float Maximum, long DataOffset, long TableOffset)
{
    public long BlockCount => ((long)Count + BlockSamples - 1) / BlockSamples;

    /// <summary>The data offset for <paramref name="width"/> features: room for the largest normalisation, aligned.</summary>
    public static long DataOffsetFor(int width)
    {
        long end = DataCache.FixedHeaderBytes + (8L * width) + 4;
        return (end + DataCache.Alignment - 1) / DataCache.Alignment * DataCache.Alignment;
    }

    public byte[] ToBytes()
    {
        var bytes = new byte[DataOffset];
        Span<byte> b = bytes;
        DataCache.Magic.CopyTo(b);
        BinaryPrimitives.WriteInt32LittleEndian(b[8..], DataCache.Version);
        BinaryPrimitives.WriteInt32LittleEndian(b[12..], (int)DataOffset);
        BinaryPrimitives.WriteInt64LittleEndian(b[16..], Count);
        BinaryPrimitives.WriteInt32LittleEndian(b[24..], Width);
        BinaryPrimitives.WriteInt32LittleEndian(b[28..], BlockSamples);
        BinaryPrimitives.WriteInt32LittleEndian(b[32..], (int)Normalization.Kind);
        BinaryPrimitives.WriteSingleLittleEndian(b[36..], Minimum);
        BinaryPrimitives.WriteSingleLittleEndian(b[40..], Maximum);
        BinaryPrimitives.WriteInt64LittleEndian(b[48..], TableOffset);
        int p = DataCache.FixedHeaderBytes;
        if (Normalization.Kind != NormalizationKind.None)
        {
            foreach (float v in Normalization.Offset)
            {
                BinaryPrimitives.WriteSingleLittleEndian(b[p..], v);
                p += 4;
            }

            foreach (float v in Normalization.Scale)
            {
                BinaryPrimitives.WriteSingleLittleEndian(b[p..], v);
                p += 4;
            }
        }

        BinaryPrimitives.WriteUInt32LittleEndian(b[p..], Crc32.Final(Crc32.Update(Crc32.Initial, b[..p])));
        return bytes;
    }

    public static CacheHeader Read(Stream stream, string path)
    {
        var fixedPart = new byte[DataCache.FixedHeaderBytes];
        int read = stream.ReadAtLeast(fixedPart, fixedPart.Length, throwOnEndOfStream: false);
        if (read < DataCache.Magic.Length || !fixedPart.AsSpan(0, DataCache.Magic.Length).SequenceEqual(DataCache.Magic))
        {
            string found = read == 0 ? "the file is empty" : $"it starts with {Shown(fixedPart.AsSpan(0, Math.Min(read, 8)))}";
            throw new DataCacheException(path, DataCacheProblem.NotACache, $"not a .f32 data cache ({found}; a cache starts with \"EAF32\"); write one with edgeae prepare");
        }

        if (read < fixedPart.Length)
        {
            throw new DataCacheException(path, DataCacheProblem.Truncated, $"the file is truncated: it ends inside the header ({read} of {DataCache.FixedHeaderBytes} bytes)");
        }

        ReadOnlySpan<byte> b = fixedPart;
        int version = BinaryPrimitives.ReadInt32LittleEndian(b[8..]);
        if (version != DataCache.Version)
        {
            throw new DataCacheException(path, DataCacheProblem.UnsupportedVersion, $"cache version {version} is not supported (this edgeae reads version {DataCache.Version}); prepare it again");
        }

        long dataOffset = BinaryPrimitives.ReadInt32LittleEndian(b[12..]);
        long count = BinaryPrimitives.ReadInt64LittleEndian(b[16..]);
        int width = BinaryPrimitives.ReadInt32LittleEndian(b[24..]);
        int blockSamples = BinaryPrimitives.ReadInt32LittleEndian(b[28..]);
        int kind = BinaryPrimitives.ReadInt32LittleEndian(b[32..]);
        float min = BinaryPrimitives.ReadSingleLittleEndian(b[36..]);
        float max = BinaryPrimitives.ReadSingleLittleEndian(b[40..]);
        long tableOffset = BinaryPrimitives.ReadInt64LittleEndian(b[48..]);
        if (width <= 0 || width > (1 << 24) || count is <= 0 or > int.MaxValue || blockSamples <= 0 || kind is < 0 or > 2 || dataOffset != DataOffsetFor(width))
        {
            throw new DataCacheException(path, DataCacheProblem.Corrupt, FormattableString.Invariant(
                $"the header is corrupt (samples {count}, width {width}, block {blockSamples}, normalisation kind {kind}, data offset {dataOffset})"));
        }

        int arrays = kind == 0 ? 0 : 2 * width;
        var rest = new byte[(4 * arrays) + 4];
        if (stream.ReadAtLeast(rest, rest.Length, throwOnEndOfStream: false) < rest.Length)
        {
            throw new DataCacheException(path, DataCacheProblem.Truncated, "the file is truncated: it ends inside the header");
        }

        uint crc = Crc32.Update(Crc32.Initial, fixedPart);
        crc = Crc32.Final(Crc32.Update(crc, rest.AsSpan(0, rest.Length - 4)));
        if (crc != BinaryPrimitives.ReadUInt32LittleEndian(rest.AsSpan(rest.Length - 4)))
        {
            throw new DataCacheException(path, DataCacheProblem.ChecksumMismatch, "the header's checksum does not match: the file was changed or damaged");
        }

        if (tableOffset != dataOffset + (count * width * sizeof(float)) || !(min <= max))
        {
            throw new DataCacheException(path, DataCacheProblem.Corrupt, "the header is corrupt (its table offset or value range is impossible)");
        }

        Normalization normalization = Normalization.None;
        if (kind != 0)
        {
            var offset = new float[width];
            var scale = new float[width];
            for (int i = 0; i < width; i++)
            {
                offset[i] = BinaryPrimitives.ReadSingleLittleEndian(rest.AsSpan(4 * i));
                scale[i] = BinaryPrimitives.ReadSingleLittleEndian(rest.AsSpan(4 * (width + i)));
            }

            try
            {
                normalization = new Normalization((NormalizationKind)kind, offset, scale);
            }
            catch (ArgumentException e)
            {
                throw new DataCacheException(path, DataCacheProblem.Corrupt, $"the header's normalisation is impossible ({e.Message})");
            }
        }

        return new CacheHeader((int)count, width, blockSamples, normalization, min, max, dataOffset, tableOffset);
    }

    private static string Shown(ReadOnlySpan<byte> bytes)
    {
        var text = new StringBuilder();
        foreach (byte x in bytes)
        {
            text.Append(x is >= 0x20 and < 0x7F ? ((char)x).ToString() : $"\\x{x:X2}");
        }

        return $"\"{text}\"";
    }
}

/// <summary>
/// Fills a fresh mapping's page tables in one system call (Linux ≥ 5.14: madvise MADV_POPULATE_READ) instead of one
/// page fault per 4 KiB page as the samples are first read — page faults are what reading a mapped block costs (about
/// 3 µs per page in a virtual machine, as much as training on the sample). Elsewhere, or when the kernel refuses, the
/// pages fault in as they are read.
/// </summary>
internal static unsafe partial class PageTables
{
    private const int PopulateRead = 22;

    private static bool s_unsupported = !OperatingSystem.IsLinux();

    public static void Populate(byte* start, long length)
    {
        if (s_unsupported || length <= 0)
        {
            return;
        }

        try
        {
            if (Advise(start, (nuint)length, PopulateRead) != 0)
            {
                s_unsupported = true; // EINVAL on kernels before 5.14: fall back to faults for good
            }
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            s_unsupported = true;
        }
    }

    [LibraryImport("libc", EntryPoint = "madvise", SetLastError = true)]
    private static partial int Advise(byte* address, nuint length, int advice);
}

/// <summary>Advice to the operating system's file cache about a range of a file (Linux: <c>posix_fadvise</c>).</summary>
internal static partial class FileCacheAdvice
{
    /// <summary>POSIX_FADV_WILLNEED: start reading the range now, return at once.</summary>
    public const int WillNeed = 3;

    /// <summary>POSIX_FADV_DONTNEED: drop the range's clean pages from the file cache.</summary>
    public const int DontNeed = 4;

    private static bool s_unsupported = !OperatingSystem.IsLinux();

    /// <summary>
    /// Gives <paramref name="advice"/> for <paramref name="length"/> bytes from <paramref name="position"/> (0: to the
    /// end); false where the system has no such call or refuses it.
    /// </summary>
    public static bool Give(SafeFileHandle handle, long position, long length, int advice)
    {
        if (s_unsupported)
        {
            return false;
        }

        try
        {
            return FileAdvise((int)handle.DangerousGetHandle(), position, length, advice) == 0;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            s_unsupported = true;
            return false;
        }
    }

    [LibraryImport("libc", EntryPoint = "posix_fadvise")]
    private static partial int FileAdvise(int descriptor, long offset, long length, int advice);
}

/// <summary>
/// CRC-32C (Castagnoli: reflected polynomial 0x82F63B78, initial value and final XOR 0xFFFFFFFF; "123456789" →
/// 0xE3069283) of a block of samples, eight bytes at a time through <see cref="BitOperations.Crc32C(uint, ulong)"/>,
/// which is one instruction on x64 (SSE4.2) and Arm64: about 5 GB/s, against 0.7 GB/s for the table CRC-32 of
/// <see cref="Crc32"/> — checking a 5 GB cache in its first epoch costs 1 s instead of 7 s, with no package.
/// </summary>
internal static class BlockCrc32
{
    public static uint Of(ReadOnlySpan<byte> bytes)
    {
        uint crc = 0xFFFFFFFFu;
        ReadOnlySpan<ulong> words = MemoryMarshal.Cast<byte, ulong>(bytes);
        foreach (ulong word in words)
        {
            crc = BitOperations.Crc32C(crc, word);
        }

        for (int i = words.Length * sizeof(ulong); i < bytes.Length; i++)
        {
            crc = BitOperations.Crc32C(crc, bytes[i]);
        }

        return ~crc;
    }
}
