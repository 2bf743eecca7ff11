using Microsoft.Win32.SafeHandles;

namespace EdgeAe.Data;

/// <summary>
/// Reads a <see cref="DataCache"/>'s blocks ahead of the trainer on a thread of its own, so that a training's first pass
/// over the file waits for neither the disk nor the checksums (<see cref="DataCache.ReadAhead"/>).
/// </summary>
/// <remarks>
/// <para>Every requested block is announced to the operating system when it is requested (Linux:
/// <c>posix_fadvise(WILLNEED)</c>, which starts the read and returns), so that the disk sees a whole window's reads at
/// once. The thread then reads each block not yet verified into its buffer (from the operating system's file cache once
/// the read has landed) and checksums it; when the checksum matches the block is marked verified, so the trainer's own
/// read of it later skips the checksum. A block whose checksum does not match, or whose read fails, is left unverified:
/// the trainer's read of it reports the problem as it always did.</para>
/// <para>The thread starts with the first request and stops with <see cref="Dispose"/>; it has its own file handle
/// and one buffer of a block, allocated once. Requests come from one thread (the cache's reader).</para>
/// </remarks>
internal sealed class BlockReadAhead : IDisposable
{
    private readonly DataCache _cache;
    private readonly SafeFileHandle _handle;
    private readonly uint[] _blockCrc;
    private readonly bool[] _verified;
    private readonly bool[] _queued;
    private readonly int[] _queue;
    private readonly object _gate = new();
    private int _head;
    private int _length;
    private bool _stopping;
    private Thread? _thread;
    private byte[]? _buffer;

    /// <summary>Read-ahead for <paramref name="cache"/> (through a handle of its own), marking blocks in <paramref name="verified"/>.</summary>
    public BlockReadAhead(DataCache cache, uint[] blockCrc, bool[] verified)
    {
        _cache = cache;
        _handle = File.OpenHandle(cache.FilePath, FileMode.Open, FileAccess.Read, FileShare.Read);
        _blockCrc = blockCrc;
        _verified = verified;
        _queued = new bool[blockCrc.Length];
        _queue = new int[blockCrc.Length];
    }

    /// <summary>Blocks read and checksummed by this thread so far (tests, figures).</summary>
    public int BlocksVerified { get; private set; }

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

            _queue[(_head + _length) % _queue.Length] = block;
            _length++;
            if (_thread is null)
            {
                _thread = new Thread(Loop) { IsBackground = true, Name = "EdgeAe data cache read-ahead" };
                _thread.Start();
            }
            else if (_length == 1)
            {
                Monitor.Pulse(_gate);
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
            Monitor.Pulse(_gate);
        }

        thread?.Join();
        _handle.Dispose();
    }

    private void Loop()
    {
        while (true)
        {
            int block;
            lock (_gate)
            {
                while (_length == 0 && !_stopping)
                {
                    Monitor.Wait(_gate);
                }

                if (_stopping)
                {
                    return;
                }

                block = _queue[_head];
                _head = (_head + 1) % _queue.Length;
                _length--;
                _queued[block] = false;
            }

            try
            {
                Read(block);
            }
            catch (IOException)
            {
                // The trainer's own read of the block reports it.
            }
            catch (UnauthorizedAccessException)
            {
                // Likewise.
            }
        }
    }

    private void Read(int block)
    {
        if (Volatile.Read(ref _verified[block]))
        {
            return; // announced to the operating system when it was requested
        }

        (long position, int length) = _cache.Extent(block);
        _buffer ??= new byte[(long)_cache.BlockSamples * _cache.Width * sizeof(float)];
        Span<byte> target = _buffer.AsSpan(0, length);
        if (!DataCache.ReadAt(_handle, target, position))
        {
            return; // cut short: the trainer's read says so
        }

        if (BlockCrc32.Of(target) == _blockCrc[block])
        {
            Volatile.Write(ref _verified[block], true);
            BlocksVerified++;
        }
    }
}
