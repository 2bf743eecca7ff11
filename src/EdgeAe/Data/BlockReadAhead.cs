using Microsoft.Win32.SafeHandles;

namespace EdgeAe.Data;

/// <summary>
/// Reads a <see cref="DataCache"/>'s blocks ahead of the trainer on a thread of its own, so that a training's pass over
/// the file waits for neither the disk nor the checksums nor the reads themselves (<see cref="DataCache.ReadAhead"/>).
/// </summary>
/// <remarks>
/// <para>Every requested block is announced to the operating system when it is requested (Linux:
/// <c>posix_fadvise(WILLNEED)</c>, which starts the read and returns), so that the disk sees a whole window's reads at
/// once. The thread then takes the requests in order. A cache that reads (<see cref="DataCacheAccess.Read"/>) gets each
/// block read into a buffer of the thread's own (from the operating system's file cache once the read has landed),
/// checksummed when it was not verified before, and handed over whole: the cache's read of that block then swaps the
/// buffer into its slot instead of reading (<see cref="Take"/>), and gives the slot's old buffer back
/// (<see cref="Return"/>). At most <see cref="ReadyLimit"/> blocks wait to be taken; the thread waits for the cache
/// beyond that. A mapped cache only gets its blocks read and checksummed (the mapping itself reads them).</para>
/// <para>The cache asks for blocks in the order it requested them (both follow the epoch's order), so a request older
/// than the block being taken will not be taken any more (its block was held when its samples came): its buffer is
/// reused, and requests the cache has passed are skipped. Should the order differ (shuffle blocks that do not match
/// the cache's blocks), blocks are read twice, never wrongly: a buffer is only ever handed over for the block it holds,
/// after its checksum matched.</para>
/// <para>A block whose checksum does not match, or whose read fails, is not handed over and stays unverified: the
/// cache's own read of it reports the problem as it always did. The thread starts with the first request and stops
/// with <see cref="Dispose"/>; it has its own file handle. Requests, takes and returns come from one thread (the
/// cache's reader).</para>
/// </remarks>
internal sealed class BlockReadAhead : IDisposable
{
    /// <summary>Blocks read ahead that may wait to be taken at once (1 MiB each by default).</summary>
    internal const int ReadyLimit = 8;

    private readonly DataCache _cache;
    private readonly SafeFileHandle _handle;
    private readonly uint[] _blockCrc;
    private readonly bool[] _verified;
    private readonly bool _fill;
    private readonly object _gate = new();

    // The requests not read yet, in order (a ring), and which blocks they are for.
    private readonly Queued[] _queue;
    private readonly bool[] _queued;
    private int _head;
    private int _length;

    // The number of each block's latest request (0: never), of the last request made, and of the last one the cache
    // has passed (taken or read itself): the requests up to it are not read any more.
    private readonly long[] _requestOf;
    private long _requests;
    private long _passed;

    // Blocks read ahead, in request order (a ring), and buffers to read into. The thread owns at most ReadyLimit
    // buffers, free, ready or being read; a taken buffer is the cache's, a returned one the thread's again.
    private readonly Ready[] _ready;
    private readonly float[][] _free;
    private int _readyHead;
    private int _readyCount;
    private int _freeCount;
    private int _owned;

    private bool _stopping;
    private Thread? _thread;
    private float[]? _checkBuffer;

    /// <summary>
    /// Read-ahead for <paramref name="cache"/> (through a handle of its own), marking blocks in <paramref name="verified"/>;
    /// with <paramref name="fill"/> it reads the blocks into buffers the cache takes.
    /// </summary>
    public BlockReadAhead(DataCache cache, uint[] blockCrc, bool[] verified, bool fill)
    {
        _cache = cache;
        _handle = File.OpenHandle(cache.FilePath, FileMode.Open, FileAccess.Read, FileShare.Read);
        _blockCrc = blockCrc;
        _verified = verified;
        _fill = fill;
        _queued = new bool[blockCrc.Length];
        _queue = new Queued[blockCrc.Length];
        _requestOf = new long[blockCrc.Length];
        _ready = new Ready[ReadyLimit];
        _free = new float[ReadyLimit][];
    }

    /// <summary>Blocks read and checksummed by this thread so far (tests, figures).</summary>
    public int BlocksVerified { get; private set; }

    /// <summary>Blocks read into a buffer and handed over so far, taken or not (tests).</summary>
    public int BlocksReady { get; private set; }

    /// <summary>Blocks the cache took from this thread instead of reading them (tests, figures).</summary>
    public int BlocksTaken { get; private set; }

    /// <summary>Queues <paramref name="block"/> unless it is queued already.</summary>
    public void Request(int block)
    {
        lock (_gate)
        {
            if (_stopping || _queued[block])
            {
                return;
            }

            _queued[block] = true;

            // The operating system starts reading every requested block at once (the thread reads them one at a time).
            (long position, int length) = _cache.Extent(block);
            FileCacheAdvice.Give(_handle, position, length, FileCacheAdvice.WillNeed);

            long request = ++_requests;
            _requestOf[block] = request;
            _queue[(_head + _length) % _queue.Length] = new Queued(block, request);
            _length++;
            if (_thread is null)
            {
                _thread = new Thread(Loop) { IsBackground = true, Name = "EdgeAe data cache read-ahead" };
                _thread.Start();
            }
            else if (_length == 1)
            {
                Monitor.PulseAll(_gate);
            }
        }
    }

    /// <summary>
    /// The buffer holding <paramref name="block"/>'s samples, read and verified on this thread, or null (the cache reads
    /// it itself). The cache is at the block's request now: buffers of older requests are reused, older requests skipped.
    /// </summary>
    public float[]? Take(int block)
    {
        lock (_gate)
        {
            long request = _requestOf[block];
            if (request == 0)
            {
                return null; // never requested
            }

            float[]? taken = null;
            bool released = false;
            while (_readyCount > 0 && _ready[_readyHead].Request <= request)
            {
                Ready first = _ready[_readyHead];
                _ready[_readyHead] = default;
                _readyHead = (_readyHead + 1) % _ready.Length;
                _readyCount--;
                if (first.Block == block && taken is null)
                {
                    taken = first.Buffer;
                }
                else
                {
                    Free(first.Buffer);
                }

                released = true;
            }

            _passed = Math.Max(_passed, request);
            if (taken is not null)
            {
                _owned--;
                BlocksTaken++;
            }

            if (released)
            {
                Monitor.PulseAll(_gate);
            }

            return taken;
        }
    }

    /// <summary>Gives back a buffer the cache no longer holds a block in (the one a taken buffer replaced).</summary>
    public void Return(float[] buffer)
    {
        lock (_gate)
        {
            if (_owned < ReadyLimit && buffer.Length == BufferLength)
            {
                _owned++;
                Free(buffer);
                Monitor.PulseAll(_gate);
            }
        }
    }

    /// <summary>Stops the thread (after the block it is reading) and closes its handle.</summary>
    public void Dispose()
    {
        Thread? thread;
        lock (_gate)
        {
            if (_stopping)
            {
                return;
            }

            _stopping = true;
            thread = _thread;
            Monitor.PulseAll(_gate);
        }

        thread?.Join();
        _handle.Dispose();
    }

    private int BufferLength => _cache.BlockSamples * _cache.Width;

    private void Free(float[] buffer) => _free[_freeCount++] = buffer;

    private void Loop()
    {
        while (true)
        {
            Queued next;
            float[]? buffer = null;
            lock (_gate)
            {
                while (!_stopping)
                {
                    // The next request the cache has not passed yet, and (when filling) a buffer to read it into.
                    while (_length > 0 && _queue[_head].Number <= _passed)
                    {
                        _queued[_queue[_head].Block] = false;
                        _head = (_head + 1) % _queue.Length;
                        _length--;
                    }

                    if (_length > 0 && (!_fill || _freeCount > 0 || _owned < ReadyLimit))
                    {
                        break;
                    }

                    Monitor.Wait(_gate);
                }

                if (_stopping)
                {
                    return;
                }

                next = _queue[_head];
                _head = (_head + 1) % _queue.Length;
                _length--;
                _queued[next.Block] = false;
                if (_fill)
                {
                    if (_freeCount > 0)
                    {
                        buffer = _free[--_freeCount];
                        _free[_freeCount] = null!;
                    }
                    else
                    {
                        _owned++; // allocated below, outside the lock
                    }
                }
            }

            try
            {
                if (_fill)
                {
                    buffer ??= new float[BufferLength];
                    Fill(next, buffer);
                }
                else
                {
                    Check(next.Block);
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // The cache's own read of the block reports it.
                if (buffer is not null)
                {
                    lock (_gate)
                    {
                        Free(buffer);
                        Monitor.PulseAll(_gate);
                    }
                }
            }
        }
    }

    /// <summary>Reads the block of <paramref name="request"/> into <paramref name="buffer"/> and, when intact, hands it over.</summary>
    private void Fill(Queued request, float[] buffer)
    {
        bool intact = ReadAndVerify(request.Block, buffer);
        lock (_gate)
        {
            if (!intact || request.Number <= _passed || _stopping)
            {
                Free(buffer); // damaged or cut short (the cache's read says so), or the cache got there first
            }
            else
            {
                _ready[(_readyHead + _readyCount) % _ready.Length] = new Ready(request.Block, request.Number, buffer);
                _readyCount++;
                BlocksReady++;
            }

            Monitor.PulseAll(_gate);
        }
    }

    /// <summary>Reads and checksums <paramref name="block"/> unless it is verified (a mapped cache: the mapping reads it).</summary>
    private void Check(int block)
    {
        if (!Volatile.Read(ref _verified[block]))
        {
            _checkBuffer ??= new float[BufferLength];
            ReadAndVerify(block, _checkBuffer);
        }
    }

    /// <summary>
    /// Reads <paramref name="block"/> into <paramref name="buffer"/> and, unless it is verified already, checks its CRC and
    /// marks it verified when it matches. False when the file ended first or the CRC does not match.
    /// </summary>
    private bool ReadAndVerify(int block, float[] buffer)
    {
        (long position, int length) = _cache.Extent(block);
        Span<byte> target = System.Runtime.InteropServices.MemoryMarshal.AsBytes(buffer.AsSpan())[..length];
        if (!DataCache.ReadAt(_handle, target, position))
        {
            return false;
        }

        if (Volatile.Read(ref _verified[block]))
        {
            return true;
        }

        if (BlockCrc32.Of(target) != _blockCrc[block])
        {
            return false;
        }

        Volatile.Write(ref _verified[block], true);
        BlocksVerified++;
        return true;
    }

    /// <summary>A queued request: the block and the request's number (1, 2, … in the order of <see cref="Request"/>).</summary>
    private readonly record struct Queued(int Block, long Number);

    /// <summary>A block read ahead, waiting to be taken.</summary>
    private readonly record struct Ready(int Block, long Request, float[] Buffer);
}
