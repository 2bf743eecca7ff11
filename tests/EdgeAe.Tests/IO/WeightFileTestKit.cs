using EdgeAe.Data;
using EdgeAe.IO;
using EdgeAe.Tests.Models;

namespace EdgeAe.Tests.IO;

/// <summary>Models, files and assertions the weight file tests share.</summary>
internal static class WeightFileTestKit
{
    /// <summary>A model whose every parameter (padding excluded) is a distinct seeded random value.</summary>
    public static T Randomized<T>(int seed)
        where T : IAutoencoder, new()
    {
        var model = new T();
        var random = new Random(seed);
        Span<float> buffer = model.Parameters;
        foreach ((int offset, var entry) in WeightFile.Tensors(model.Topology, buffer.Length))
        {
            for (int j = 0; j < entry.Count; j++)
            {
                buffer[offset + j] = (float)((random.NextDouble() * 4) - 2);
            }
        }

        return model;
    }

    /// <summary>A valid DeepBceAe file with a standardisation, and the model it came from.</summary>
    public static byte[] DeepBceFile(out Normalization normalization)
    {
        DeepBceAe model = Randomized<DeepBceAe>(7);
        normalization = Standardization(DeepBceAe.Topology.InputSize, 8);
        return WeightFile.ToBytes(model, normalization);
    }

    public static Normalization Standardization(int width, int seed)
    {
        var random = new Random(seed);
        float[] offset = Enumerable.Range(0, width).Select(_ => (float)(random.NextDouble() * 10 - 5)).ToArray();
        float[] scale = Enumerable.Range(0, width).Select(_ => (float)(random.NextDouble() * 3 + 0.1)).ToArray();
        return new Normalization(NormalizationKind.Standardize, offset, scale);
    }

    public static int[] Bits(ReadOnlySpan<float> values)
    {
        var bits = new int[values.Length];
        for (int i = 0; i < values.Length; i++)
        {
            bits[i] = BitConverter.SingleToInt32Bits(values[i]);
        }

        return bits;
    }

    /// <summary>Rewrites the trailing CRC-32 so that a mutated file passes the checksum.</summary>
    public static void FixChecksum(byte[] bytes)
    {
        if (bytes.Length < 4)
        {
            return;
        }

        uint crc = System.IO.Hashing.Crc32.HashToUInt32(bytes.AsSpan(0, bytes.Length - 4));
        BitConverter.TryWriteBytes(bytes.AsSpan(bytes.Length - 4), crc);
    }

    /// <summary>Loading <paramref name="bytes"/> fails with a <see cref="WeightFileException"/> and leaves the model as it was.</summary>
    public static WeightFileException AssertRejected(byte[] bytes, IAutoencoder model, int[] before, string what)
    {
        WeightFileException? exception = null;
        try
        {
            WeightFile.Load(bytes, model, what);
        }
        catch (WeightFileException e)
        {
            exception = e;
        }

        Assert.True(exception is not null, $"{what}: the file was accepted");
        int[] after = Bits(model.Parameters);
        Assert.True(before.AsSpan().SequenceEqual(after), $"{what}: the model changed although loading failed ({exception.Reason})");
        return exception;
    }

    /// <summary>Loads, tolerating success; a failure must be a <see cref="WeightFileException"/> that left the model unchanged.</summary>
    public static bool LoadOrReject(byte[] bytes, IAutoencoder model, int[] before, string what)
    {
        try
        {
            WeightFile.Load(bytes, model, what);
            return true;
        }
        catch (WeightFileException)
        {
            int[] after = Bits(model.Parameters);
            Assert.True(before.AsSpan().SequenceEqual(after), $"{what}: the model changed although loading failed");
            return false;
        }
    }

    /// <summary>One seeded random mutation: overwrite, XOR, insert or delete 1–8 bytes.</summary>
    public static byte[] Mutate(byte[] original, Random random)
    {
        var bytes = new List<byte>(original);
        int edits = random.Next(1, 9);
        for (int e = 0; e < edits; e++)
        {
            int op = random.Next(4);
            if (bytes.Count == 0)
            {
                op = 2;
            }

            int at = random.Next(bytes.Count + (op == 2 ? 1 : 0));
            switch (op)
            {
                case 0:
                    bytes[at] = (byte)random.Next(256);
                    break;
                case 1:
                    bytes[at] ^= (byte)(1 << random.Next(8));
                    break;
                case 2:
                    bytes.Insert(at, (byte)random.Next(256));
                    break;
                default:
                    bytes.RemoveAt(at);
                    break;
            }
        }

        byte[] result = bytes.ToArray();
        return result.AsSpan().SequenceEqual(original) ? Mutate(original, random) : result;
    }
}
