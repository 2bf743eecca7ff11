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
}
