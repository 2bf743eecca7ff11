using EdgeAe.Kernels;

namespace EdgeAe.Tests.Kernels;

/// <summary>The transpose the batch backward pass reads (8 × 8 AVX blocks plus element-wise edges, or element-wise only).</summary>
public sealed class MatrixTests
{
    [Fact]
    public void Transpose_matches_the_definition_for_every_shape_up_to_40_by_40()
    {
        for (int rows = 1; rows <= 40; rows++)
        {
            for (int columns = 1; columns <= 40; columns++)
            {
                float[] source = Enumerable.Range(0, rows * columns).Select(i => (float)i).ToArray();
                float[] destination = new float[rows * columns + 1];
                destination[^1] = -1f;
                Matrix.Transpose(ref source[0], rows, columns, ref destination[0]);
                for (int r = 0; r < rows; r++)
                {
                    for (int c = 0; c < columns; c++)
                    {
                        if (destination[c * rows + r] != source[r * columns + c])
                        {
                            Assert.Fail($"{rows} × {columns}: [{c}, {r}] = {destination[c * rows + r]}, expected {source[r * columns + c]}");
                        }
                    }
                }

                Assert.Equal(-1f, destination[^1]);
            }
        }
    }

    [Theory]
    [InlineData(1, 1, 0)]
    [InlineData(8, 8, 5)]
    [InlineData(37, 21, 100)]
    [InlineData(64, 784, 3)]
    [InlineData(23, 9, 0)]
    public void Parts_of_a_parameter_buffer_transpose_every_row_exactly_once(int rows, int columns, int offset)
    {
        // The matrix sits at offset in a buffer; ranges cutting the buffer anywhere (through rows, before and after the
        // matrix) write every element of the transpose once — a NaN left, or a second write of a poisoned copy, shows.
        int length = offset + (rows * columns) + 50;
        float[] buffer = Enumerable.Range(0, length).Select(i => (float)i).ToArray();
        float[] expected = new float[rows * columns];
        Matrix.Transpose(ref buffer[offset], rows, columns, ref expected[0]);
        var random = new Random(rows * 1000 + columns);
        for (int trial = 0; trial < 50; trial++)
        {
            int[] cuts = Enumerable.Range(0, random.Next(0, 6)).Select(_ => random.Next(0, length + 1)).Append(0).Append(length).Order().ToArray();
            float[] destination = Enumerable.Repeat(float.NaN, rows * columns).ToArray();
            int[] writes = new int[rows * columns];
            for (int k = 0; k + 1 < cuts.Length; k++)
            {
                float[] part = Enumerable.Repeat(float.NaN, rows * columns).ToArray();
                Matrix.Transpose(ref buffer[offset], rows, columns, ref part[0], offset, cuts[k], cuts[k + 1]);
                for (int i = 0; i < part.Length; i++)
                {
                    if (!float.IsNaN(part[i]))
                    {
                        writes[i]++;
                        destination[i] = part[i];
                    }
                }
            }

            Assert.All(writes, w => Assert.Equal(1, w));
            Assert.Equal(expected, destination);
        }
    }
}
