using EdgeAe.Kernels;

namespace EdgeAe.Tests.Kernels;

/// <summary>How the batch-1 products cut a row of output segments into blocks of register accumulators.</summary>
public sealed class RowBlocksTests
{
    [Theory]
    [InlineData(1, 1)]
    [InlineData(8, 8)]
    [InlineData(12, 6)] // two even blocks, as before
    [InlineData(13, 7)] // 7 + 6
    [InlineData(16, 8)]
    [InlineData(49, 7)] // M1's decoder on 512 bits: 7 blocks of 7
    [InlineData(80, 8)] // MLPerf's output layer on 256 bits
    [InlineData(98, 7)] // M1's decoder on 256 bits: 14 of 7, not 12 of 8 and one of 2
    [InlineData(196, 8)] // M1's decoder on 128 bits: 24 of 8 and one of 4
    public void Known_rows_take_the_expected_block(int segments, int expected)
        => Assert.Equal(expected, RowBlocks.SegmentsPerBlock(segments, 8));

    [Fact]
    public void Every_row_up_to_600_segments_gets_blocks_of_at_most_8_and_no_short_last_block_where_one_can_be_avoided()
    {
        for (int segments = 1; segments <= 600; segments++)
        {
            int k = RowBlocks.SegmentsPerBlock(segments, 8);
            Assert.InRange(k, 1, 8);
            int rest = segments % k;
            bool avoidable = segments > 8 && Enumerable.Range(5, 4).Any(size => segments % size is 0 or >= 4);
            if (avoidable)
            {
                Assert.True(rest == 0 || rest >= 4, $"{segments} segments in blocks of {k} leave a last block of {rest}");
            }

            if (segments > 8)
            {
                Assert.True(k > 4, $"{segments} segments: blocks of {k}, too few chains");
            }
        }
    }
}
