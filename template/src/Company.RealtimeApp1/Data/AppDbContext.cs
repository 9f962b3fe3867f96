using Company.RealtimeApp1.Auth;
using Company.RealtimeApp1.Organizations;
using Company.RealtimeApp1.Users;
using Microsoft.AspNetCore.Identity.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;

namespace Company.RealtimeApp1.Data;

public sealed class AppDbContext(DbContextOptions<AppDbContext> options)
    : IdentityDbContext<User, Role, Guid>(options)
{
    public DbSet<Organization> Organizations => Set<Organization>();

    public DbSet<Membership> Memberships => Set<Membership>();

    public DbSet<RefreshTokenFamily> RefreshTokenFamilies => Set<RefreshTokenFamily>();

    public DbSet<RefreshToken> RefreshTokens => Set<RefreshToken>();

    protected override void OnModelCreating(ModelBuilder builder)
    {
        base.OnModelCreating(builder);

        builder.Entity<Organization>(organization =>
        {
            organization.Property(o => o.Slug).HasMaxLength(64);
            organization.Property(o => o.Name).HasMaxLength(200);
            organization.HasIndex(o => o.Slug).IsUnique();
        });

        builder.Entity<Membership>(membership =>
        {
            membership.HasKey(m => new { m.OrganizationId, m.UserId });
            membership.HasIndex(m => m.UserId);
            membership.HasOne(m => m.Organization).WithMany(o => o.Members)
                .HasForeignKey(m => m.OrganizationId).OnDelete(DeleteBehavior.Cascade);
            membership.HasOne(m => m.User).WithMany()
                .HasForeignKey(m => m.UserId).OnDelete(DeleteBehavior.Cascade);
        });

        builder.Entity<RefreshTokenFamily>(family =>
        {
            family.Property(f => f.SecurityStampDigest).HasMaxLength(64);
            family.HasIndex(f => f.UserId);
            family.HasOne<User>().WithMany().HasForeignKey(f => f.UserId).OnDelete(DeleteBehavior.Cascade);
        });

        builder.Entity<RefreshToken>(token =>
        {
            token.Property(t => t.TokenHash).HasMaxLength(64);
            token.HasIndex(t => t.TokenHash).IsUnique();
            token.HasOne(t => t.Family).WithMany().HasForeignKey(t => t.FamilyId).OnDelete(DeleteBehavior.Cascade);
        });

        // The log every stored stream shares, and each stream's newest position (StreamStore).
        builder.Entity<StreamLogEntry>(entry =>
        {
            entry.ToTable("StreamMessages");
            entry.HasKey(e => new { e.Stream, e.Position });
            entry.Property(e => e.Stream).HasMaxLength(StreamStore.MaxStreamNameLength);
            entry.Property(e => e.Type).HasMaxLength(StreamStore.MaxTypeLength);
        });

        builder.Entity<StreamHead>(head =>
        {
            head.ToTable("StreamHeads");
            head.HasKey(h => h.Stream);
            head.Property(h => h.Stream).HasMaxLength(StreamStore.MaxStreamNameLength);
        });

        // Each feature's own entities (a consumer's stored messages, say) are configured next to them.
        builder.ApplyConfigurationsFromAssembly(typeof(AppDbContext).Assembly);
    }
}
