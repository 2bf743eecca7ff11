using System.Buffers.Binary;
using System.Globalization;

namespace EdgeAe.Data;

/// <summary>
/// Reads IDX files, the format of MNIST and Fashion-MNIST: a big-endian magic number
/// 0x0000TTDD (TT the element type, DD the number of dimensions), DD big-endian 32-bit sizes,
/// then the elements. Files may be raw or gzip-compressed, recognised by their magic bytes
/// (1F 8B), not by the file name.
/// </summary>
/// <remarks>
/// Errors: a missing file is a <see cref="FileNotFoundException"/> carrying the path; bad content
/// (wrong magic number, element type or dimension count, a size of zero, a body shorter or longer
/// than the header declares, a broken gzip stream) is a <see cref="DataFormatException"/> naming the
/// file and, for a wrong length, the byte offset in the (decompressed) content and the expected length.
/// Other I/O errors propagate unchanged.
/// </remarks>
public static class IdxReader
{
    /// <summary>Magic number of an IDX file of unsigned-byte images (3 dimensions: count, rows, columns).</summary>
    public const int ImagesMagic = 0x00000803;

    /// <summary>Magic number of an IDX file of unsigned-byte labels (1 dimension: count).</summary>
    public const int LabelsMagic = 0x00000801;

    private const byte UnsignedByte = 0x08;

    /// <summary>The largest expansion of deflate data (RFC 1951: a 258-byte match per 2 bits at best, about 1032:1).</summary>
    private const long MaxDeflateRatio = 1032;

    /// <summary>
    /// Reads unsigned-byte images: one sample per image, rows × columns features in row-major order,
    /// with the raw pixel values 0..255 as floats (scaling is the job of a <see cref="Normalization"/>).
    /// </summary>
    /// <exception cref="FileNotFoundException">The file (or its directory) does not exist.</exception>
    /// <exception cref="DataFormatException">The content is not an IDX file of unsigned-byte images.</exception>
    public static Dataset ReadImages(string path)
    {
        using FileStream file = DataStreams.OpenRead(path);
        return ReadImages(file, path);
    }

    /// <summary>Reads unsigned-byte images from <paramref name="stream"/> (left open); <paramref name="displayName"/> names it in errors.</summary>
    /// <exception cref="DataFormatException">The content is not an IDX file of unsigned-byte images.</exception>
    public static Dataset ReadImages(Stream stream, string displayName)
    {
        (int[] sizes, float[] values) = Read(stream, displayName, ImagesMagic, "unsigned-byte images");
        return new Dataset(values, sizes[0], sizes[1] * sizes[2]);
    }

    /// <summary>Reads unsigned-byte labels (0..255).</summary>
    /// <exception cref="FileNotFoundException">The file (or its directory) does not exist.</exception>
    /// <exception cref="DataFormatException">The content is not an IDX file of unsigned-byte labels.</exception>
    public static int[] ReadLabels(string path)
    {
        using FileStream file = DataStreams.OpenRead(path);
        return ReadLabels(file, path);
    }

    /// <summary>Reads unsigned-byte labels from <paramref name="stream"/> (left open); <paramref name="displayName"/> names it in errors.</summary>
    /// <exception cref="DataFormatException">The content is not an IDX file of unsigned-byte labels.</exception>
    public static int[] ReadLabels(Stream stream, string displayName)
    {
        (_, float[] values) = Read(stream, displayName, LabelsMagic, "unsigned-byte labels");
        var labels = new int[values.Length];
        for (int i = 0; i < values.Length; i++)
        {
            labels[i] = (int)values[i];
        }

        return labels;
    }

    /// <summary>Reads images and their labels from two IDX files into one labelled data set.</summary>
    /// <exception cref="FileNotFoundException">Either file (or its directory) does not exist.</exception>
    /// <exception cref="DataFormatException">
    /// Either file is malformed, or the labels file holds a different number of labels than there are images
    /// (reported against the labels file).
    /// </exception>
    public static Dataset ReadImages(string imagesPath, string labelsPath)
    {
        Dataset images = ReadImages(imagesPath);
        int[] labels = ReadLabels(labelsPath);
        if (labels.Length != images.Count)
        {
            throw new DataFormatException(labelsPath, null, null,
                $"expected {images.Count} labels, one per image in '{imagesPath}', but found {labels.Length}");
        }

        return new Dataset(images.Values.ToArray(), images.Count, images.Width, labels);
    }

    /// <summary>The sizes and the elements as floats, converted chunk by chunk (no byte copy of the whole body).</summary>
    private static (int[] Sizes, float[] Values) Read(Stream stream, string name, int expectedMagic, string what)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(name);
        Stream raw = DataStreams.Seekable(stream);
        long available = raw.Length - raw.Position;
        using Stream content = DataStreams.Decompressed(raw, out bool compressed);
        string of = compressed ? " of the decompressed content" : "";
        try
        {
            Span<byte> magicBytes = stackalloc byte[4];
            int got = content.ReadAtLeast(magicBytes, 4, throwOnEndOfStream: false);
            if (got < 4)
            {
                throw new DataFormatException(name, null, null, $"truncated at byte {got}{of} (expected a 4-byte IDX magic number)");
            }

            int magic = BinaryPrimitives.ReadInt32BigEndian(magicBytes);
            if (magic != expectedMagic)
            {
                throw new DataFormatException(name, null, null,
                    $"wrong magic number {Hex(magic)}, expected {Hex(expectedMagic)} ({what}){ExplainMagic(magic, expectedMagic)}");
            }

            int dimensions = magic & 0xFF;
            int headerLength = 4 + 4 * dimensions;
            var sizeBytes = new byte[4 * dimensions];
            got = content.ReadAtLeast(sizeBytes, sizeBytes.Length, throwOnEndOfStream: false);
            if (got < sizeBytes.Length)
            {
                throw new DataFormatException(name, null, null, $"truncated at byte {4 + got}{of} (expected a {headerLength}-byte header)");
            }

            var sizes = new int[dimensions];
            long bodyLength = 1;
            for (int d = 0; d < dimensions; d++)
            {
                uint size = BinaryPrimitives.ReadUInt32BigEndian(sizeBytes.AsSpan(4 * d));
                if (size == 0 || size > int.MaxValue)
                {
                    throw new DataFormatException(name, null, null,
                        $"dimension {d + 1} of {dimensions} declares size {size}, expected a size between 1 and {int.MaxValue}");
                }

                sizes[d] = (int)size;
                bodyLength *= size;
                if (bodyLength > Array.MaxLength)
                {
                    throw new DataFormatException(name, null, null,
                        $"the declared sizes make more than {Array.MaxLength} elements, expected at most that many");
                }
            }

            // A header may declare up to 2^31 elements: check the file can hold them before allocating (deflate
            // expands by at most 1032:1, so a gzip file bounds its content too).
            long expectedLength = headerLength + bodyLength;
            long most = compressed ? available * MaxDeflateRatio : available;
            if (expectedLength > most)
            {
                throw new DataFormatException(name, null, null, compressed
                    ? FormattableString.Invariant($"truncated: the header declares {expectedLength} bytes{of}, more than {available} bytes of gzip can hold")
                    : FormattableString.Invariant($"truncated at byte {available} (expected {expectedLength} bytes)"));
            }

            var values = new float[bodyLength];
            var chunk = new byte[1 << 16];
            long done = 0;
            while (done < bodyLength)
            {
                int want = (int)Math.Min(chunk.Length, bodyLength - done);
                got = content.ReadAtLeast(chunk.AsSpan(0, want), want, throwOnEndOfStream: false);
                for (int i = 0; i < got; i++)
                {
                    values[done + i] = chunk[i];
                }

                done += got;
                if (got < want)
                {
                    throw new DataFormatException(name, null, null,
                        $"truncated at byte {headerLength + done}{of} (expected {expectedLength} bytes)");
                }
            }

            long trailing = CountRemaining(content);
            if (trailing > 0)
            {
                throw new DataFormatException(name, null, null,
                    $"{trailing} bytes of trailing data after byte {expectedLength}{of} (expected {expectedLength} bytes)");
            }

            return (sizes, values);
        }
        catch (TruncatedGzipException e)
        {
            throw new DataFormatException(name, null, null, e.Message, e);
        }
        catch (InvalidDataException e)
        {
            throw new DataFormatException(name, null, null, $"the gzip stream is corrupt ({e.Message})", e);
        }
    }

    private static long CountRemaining(Stream stream)
    {
        var buffer = new byte[4096];
        long total = 0;
        int read;
        while ((read = stream.Read(buffer)) > 0)
        {
            total += read;
        }

        return total;
    }

    private static string Hex(int value) => "0x" + value.ToString("X8", CultureInfo.InvariantCulture);

    private static string ExplainMagic(int magic, int expected)
    {
        if ((magic & unchecked((int)0xFFFF0000)) != 0)
        {
            return "; this is not an IDX file";
        }

        int type = (magic >> 8) & 0xFF;
        int dimensions = magic & 0xFF;
        if (type != UnsignedByte)
        {
            return $"; element type 0x{type.ToString("X2", CultureInfo.InvariantCulture)} ({TypeName(type)}) is not supported";
        }

        if (magic == LabelsMagic)
        {
            return "; this looks like a labels file";
        }

        if (magic == ImagesMagic)
        {
            return "; this looks like an images file";
        }

        return $"; found {dimensions} dimensions, expected {expected & 0xFF}";
    }

    private static string TypeName(int type) => type switch
    {
        0x08 => "unsigned byte",
        0x09 => "signed byte",
        0x0B => "16-bit integer",
        0x0C => "32-bit integer",
        0x0D => "32-bit float",
        0x0E => "64-bit float",
        _ => "unknown type",
    };
}
