using Company.RealtimeApp1.Data;
using Company.RealtimeApp1.Users;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Company.RealtimeApp1.Consumers;

/// <summary>
/// That a user read one of their notifications. The notifications themselves are their stream's messages in
/// the stream log (<see cref="StreamLogEntry"/>); this is the one column of their own the HTTP API needs.
/// </summary>
public sealed class NotificationRead
{
    public Guid UserId { get; init; }

    /// <summary>The notification's id: its position in the user's stream.</summary>
    public long Position { get; init; }

    public DateTime ReadAt { get; init; }
}

/// <summary>Applied by <see cref="AppDbContext"/> with the assembly's other configurations.</summary>
internal sealed class NotificationReadConfiguration : IEntityTypeConfiguration<NotificationRead>
{
    public void Configure(EntityTypeBuilder<NotificationRead> read)
    {
        read.ToTable("NotificationReads");
        read.HasKey(r => new { r.UserId, r.Position });
        read.HasOne<User>().WithMany().HasForeignKey(r => r.UserId).OnDelete(DeleteBehavior.Cascade);
    }
}
